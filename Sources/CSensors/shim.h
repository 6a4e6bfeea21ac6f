// Thin C surface for the Meters module: libsensors (lm-sensors), the perf_event_open system call and prctl(2)
// (variadic C functions are not callable from Swift), and dlopen for NVML.
#ifndef WATTPRINT_CSENSORS_SHIM_H
#define WATTPRINT_CSENSORS_SHIM_H

#include <sensors/sensors.h>
#include <sensors/error.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <dlfcn.h>
#include <string.h>

/// perf_event_open(2) for a system-wide counter on one CPU (pid -1).
static inline int wp_perf_event_open(unsigned int type, unsigned long long config, int cpu) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.size = sizeof(attr);
    attr.type = type;
    attr.config = config;
    return (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1, 0);
}

/// prctl(PR_SET_CHILD_SUBREAPER): orphans of this process's descendants are re-parented to it, not to init.
static inline int wp_become_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}
#endif
