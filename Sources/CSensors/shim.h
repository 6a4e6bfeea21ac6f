// Thin C surface for the Meters module: libsensors (lm-sensors), the perf_event_open system call
// (variadic syscall(2) is not callable from Swift), and dlopen for NVML.
#ifndef WATTPRINT_CSENSORS_SHIM_H
#define WATTPRINT_CSENSORS_SHIM_H

#include <sensors/sensors.h>
#include <sensors/error.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <dlfcn.h>
#include <string.h>

/// perf_event_open(2) for a system-wide counter on one CPU (pid -1).
static inline int wattprint_perf_event_open(unsigned int type, unsigned long long config, int cpu) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.size = sizeof(attr);
    attr.type = type;
    attr.config = config;
    return (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1, 0);
}
#endif
