import Carbon
import Foundation

/// Everything a run's footprint depends on besides its energy, recorded in the run's chain when it begins
/// (`footprint_settings`), so `show`, `verify` and reports reproduce what `run` printed. A flag given to `show`
/// later is an override (`FootprintOverrides`), labelled as such.
public struct FootprintSettings: Codable, Sendable, Equatable {
    public static let eventKind = "footprint_settings"

    /// The region and where it came from (flag, environment, config file, defaulted).
    public var region: RegionResolution
    /// The site the PUE default came from (explicit, or the cloud provider of a cloud region); nil: on-premises default.
    public var site: SiteType?
    /// An explicit PUE, which overrides the site's.
    public var pue: Double?
    /// The hourly intensity series applied, by name and content hash; its hours are recorded at the end of the run.
    public var hourly: HourlySeriesReference?
    /// Certificates, PPAs, supplier or residual-mix factors for market-based Scope 2.
    public var instruments: ContractualInstruments?
    /// Hardware whose embodied emissions the run carries, for the run's duration.
    public var hardware: HardwareChoice?

    public init(
        region: RegionResolution, site: SiteType?, pue: Double?, hourly: HourlySeriesReference? = nil,
        instruments: ContractualInstruments? = nil, hardware: HardwareChoice? = nil
    ) {
        self.region = region; self.site = site; self.pue = pue; self.hourly = hourly
        self.instruments = instruments; self.hardware = hardware
    }
}

/// An hourly intensity series as a run names it: its file name, SHA-256 of its bytes, and the balancing authority
/// whose rows were used from a multi-authority file.
public struct HourlySeriesReference: Codable, Sendable, Equatable {
    public var name: String
    public var sha256: String
    public var balancingAuthority: String?

    public init(name: String, sha256: String, balancingAuthority: String?) {
        self.name = name; self.sha256 = sha256; self.balancingAuthority = balancingAuthority
    }
}

/// Hardware units a run held, for embodied emissions over the run's duration.
public struct HardwareChoice: Codable, Sendable, Equatable {
    /// A `HardwareTable` class id, e.g. "h100".
    public var hardware: String
    public var count: Double

    public init(hardware: String, count: Double) { self.hardware = hardware; self.count = count }
}

/// The hours of the hourly series a run covered, recorded when it ends (`hourly_intensity`), so the footprint is
/// reproduced from the ledger alone, without the file.
public struct RecordedHourlyIntensity: Codable, Sendable, Equatable {
    public static let eventKind = "hourly_intensity"

    public struct Hour: Codable, Sendable, Equatable {
        /// Start of the hour, ISO 8601 UTC.
        public var start: String
        public var gramsPerKilowattHour: Double
    }

    public var series: HourlySeriesReference
    public var zone: String?
    public var hours: [Hour]

    public init(series: HourlySeriesReference, zone: String?, hours: [Hour]) {
        self.series = series; self.zone = zone; self.hours = hours
    }

    /// The recorded hours as a series.
    /// - Throws: `MalformedRecord` for an hour that is not an ISO 8601 time, `CarbonError` for other malformed hours
    ///   (a ledger edited by hand).
    public func intensitySeries() throws -> HourlyIntensitySeries {
        try HourlyIntensitySeries(
            zone: zone,
            hours: hours.map { h in
                guard let date = ISO8601DateFormatter().date(from: h.start) else {
                    throw MalformedRecord(
                        description: "the run's recorded hourly intensity has an hour '\(h.start)' that is not an ISO 8601 time")
                }
                return (date, h.gramsPerKilowattHour)
            })
    }

    /// The hours of `series` from `start` to `end`.
    public init(series: HourlySeriesReference, intensities: HourlyIntensitySeries, from start: Date, to end: Date) {
        self.series = series
        zone = intensities.zone
        let format = ISO8601DateFormatter()
        hours = intensities.hours(from: start, to: end).map {
            Hour(start: format.string(from: $0.hour), gramsPerKilowattHour: $0.intensity.gramsPerKilowattHour)
        }
    }
}

/// A run's record that this wattprint cannot read back.
public struct MalformedRecord: Error, CustomStringConvertible {
    public let description: String
}

/// Settings given to `show` (or a report) that replace what the run recorded, each labelled in the output.
public struct FootprintOverrides: Sendable {
    public var region: RegionResolution?
    public var site: SiteType?
    public var pue: Double?
    public var hourly: (series: HourlyIntensitySeries, reference: HourlySeriesReference)?
    public var instruments: ContractualInstruments?
    public var hardware: HardwareChoice?

    public init(
        region: RegionResolution? = nil, site: SiteType? = nil, pue: Double? = nil,
        hourly: (series: HourlyIntensitySeries, reference: HourlySeriesReference)? = nil,
        instruments: ContractualInstruments? = nil, hardware: HardwareChoice? = nil
    ) {
        self.region = region; self.site = site; self.pue = pue; self.hourly = hourly
        self.instruments = instruments; self.hardware = hardware
    }

    public static let none = FootprintOverrides()
}
