/*
 * A stand-in for libnvidia-ml.so.1, so the NVML meter's real dlopen/dlsym path runs on machines without a GPU.
 *
 * It exports the symbols wattprint looks up, with the signatures and struct layouts that nvml.h declares
 * (NVML API version 13). Its GPUs draw a known power, so tests know the true energy:
 *   P(t) = FAKE_NVML_WATTS + FAKE_NVML_RAMP * t   watts, t = seconds since nvmlInit_v2 (CLOCK_MONOTONIC).
 * Each GPU i draws (i + 1) times that. Like the H100's counter (shared/data/hardware/nvml_notes.md), the energy
 * counter advances every 100 ms; the POWER_INSTANT field (186) is the current power; GetPowerUsage is the mean over
 * the last second, as on Ampere and later.
 *
 * Environment, read at nvmlInit_v2:
 *   FAKE_NVML_INIT_RC        return code of nvmlInit_v2 (default 0)
 *   FAKE_NVML_GPUS           number of GPUs (default 1)
 *   FAKE_NVML_METHODS        comma list of what GPU 0 supports: counter, instant, average (default all three);
 *                            other GPUs support all three
 *   FAKE_NVML_COUNTER_RC     what the counter returns on GPU 0 when "counter" is not in FAKE_NVML_METHODS
 *                            (default 3, NVML_ERROR_NOT_SUPPORTED)
 *   FAKE_NVML_WATTS          base power in watts (default 300)
 *   FAKE_NVML_RAMP           watts added per second (default 0)
 *   FAKE_NVML_COUNTER_MJ     counter value at init, mJ (default 123456789)
 *   FAKE_NVML_LOST_AFTER     GPU 0 answers NVML_ERROR_GPU_IS_LOST once its energy counter has been read this many
 *                            times (default never); counted in reads, not seconds, so a slow machine sees the same
 *   FAKE_NVML_LOST_FOR       ... for this many further counter reads, then answers again (default: for good)
 *   FAKE_NVML_COUNTER_STUCK  1: GPU 0's counter answers but never advances from FAKE_NVML_COUNTER_MJ
 *   FAKE_NVML_GLITCH_AT      GPU 0's counter returns FAKE_NVML_GLITCH_MJ (default 1000) on this read only, then the
 *                            right values again (a far-too-low reading)
 *   FAKE_NVML_RESET_AT       from this counter read of GPU 0 on, its counter restarts from 0 (a driver reload)
 * Counter reads of GPU 0 are counted from 1, the meter's probe at discovery included.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int nvmlReturn_t;
enum {
    NVML_SUCCESS = 0, NVML_ERROR_UNINITIALIZED = 1, NVML_ERROR_INVALID_ARGUMENT = 2, NVML_ERROR_NOT_SUPPORTED = 3,
    NVML_ERROR_GPU_IS_LOST = 15
};

typedef struct fake_gpu { unsigned int index; } *nvmlDevice_t;

/* nvml.h: typedef union nvmlValue_st { double dVal; int siVal; unsigned int uiVal; unsigned long ulVal;
 * unsigned long long ullVal; signed long long sllVal; unsigned short usVal; } nvmlValue_t; */
typedef union { double dVal; int siVal; unsigned int uiVal; unsigned long ulVal; unsigned long long ullVal;
                signed long long sllVal; unsigned short usVal; } nvmlValue_t;
typedef enum { NVML_VALUE_TYPE_DOUBLE = 0, NVML_VALUE_TYPE_UNSIGNED_INT = 1 } nvmlValueType_t;
typedef struct {
    unsigned int fieldId;
    unsigned int scopeId;
    long long timestamp;
    long long latencyUsec;
    nvmlValueType_t valueType;
    nvmlReturn_t nvmlReturn;
    nvmlValue_t value;
} nvmlFieldValue_t;
typedef struct { unsigned int gpu; unsigned int memory; } nvmlUtilization_t;
typedef struct { unsigned long long total; unsigned long long free; unsigned long long used; } nvmlMemory_t;

#define MAX_GPUS 8
static struct fake_gpu gpus[MAX_GPUS];
static unsigned int gpu_count = 1;
static int initialised = 0;
static int has_counter = 1, has_instant = 1, has_average = 1;
static nvmlReturn_t counter_rc = NVML_ERROR_NOT_SUPPORTED;
static double base_watts = 300, ramp = 0;
static long lost_after = -1, lost_for = -1, counter_reads = 0;
static unsigned long long counter_start = 123456789ULL;
static int counter_stuck = 0;
static long glitch_at = -1, reset_at = -1;
static unsigned long long glitch_mj = 1000ULL;
static double reset_joules = -1;
static struct timespec t0;

static double env_double(const char *name, double fallback) {
    const char *v = getenv(name);
    return v && *v ? strtod(v, NULL) : fallback;
}

static double seconds_since_init(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
}

/* Energy drawn by GPU i from init to t seconds, joules: the integral of P. */
static double joules(unsigned int i, double t) { return (i + 1) * (base_watts * t + 0.5 * ramp * t * t); }
static double watts(unsigned int i, double t) { return (i + 1) * (base_watts + ramp * t); }

static nvmlReturn_t check(nvmlDevice_t d, double *t) {
    if (!initialised) return NVML_ERROR_UNINITIALIZED;
    if (d == NULL || d < gpus || d >= gpus + gpu_count) return NVML_ERROR_INVALID_ARGUMENT;
    *t = seconds_since_init();
    if (d->index == 0 && lost_after >= 0 && counter_reads > lost_after && (lost_for < 0 || counter_reads <= lost_after + lost_for))
        return NVML_ERROR_GPU_IS_LOST;
    return NVML_SUCCESS;
}

/* Like NVML, initialisation is reference-counted: the environment is read when the count goes from 0 to 1. */
nvmlReturn_t nvmlInit_v2(void) {
    nvmlReturn_t rc = (nvmlReturn_t)env_double("FAKE_NVML_INIT_RC", 0);
    if (rc != NVML_SUCCESS) return rc;
    if (initialised++ > 0) return NVML_SUCCESS;
    gpu_count = (unsigned int)env_double("FAKE_NVML_GPUS", 1);
    if (gpu_count > MAX_GPUS) gpu_count = MAX_GPUS;
    for (unsigned int i = 0; i < gpu_count; i++) gpus[i].index = i;
    const char *methods = getenv("FAKE_NVML_METHODS");
    if (methods) {
        has_counter = strstr(methods, "counter") != NULL;
        has_instant = strstr(methods, "instant") != NULL;
        has_average = strstr(methods, "average") != NULL;
    }
    counter_rc = (nvmlReturn_t)env_double("FAKE_NVML_COUNTER_RC", NVML_ERROR_NOT_SUPPORTED);
    base_watts = env_double("FAKE_NVML_WATTS", 300);
    ramp = env_double("FAKE_NVML_RAMP", 0);
    lost_after = (long)env_double("FAKE_NVML_LOST_AFTER", -1);
    lost_for = (long)env_double("FAKE_NVML_LOST_FOR", -1);
    counter_reads = 0;
    counter_start = (unsigned long long)env_double("FAKE_NVML_COUNTER_MJ", 123456789);
    counter_stuck = (int)env_double("FAKE_NVML_COUNTER_STUCK", 0);
    glitch_at = (long)env_double("FAKE_NVML_GLITCH_AT", -1);
    glitch_mj = (unsigned long long)env_double("FAKE_NVML_GLITCH_MJ", 1000);
    reset_at = (long)env_double("FAKE_NVML_RESET_AT", -1);
    reset_joules = -1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlShutdown(void) {
    if (!initialised) return NVML_ERROR_UNINITIALIZED;
    --initialised;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) {
    if (!initialised) return NVML_ERROR_UNINITIALIZED;
    if (!count) return NVML_ERROR_INVALID_ARGUMENT;
    *count = gpu_count;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
    if (!initialised) return NVML_ERROR_UNINITIALIZED;
    if (index >= gpu_count || !device) return NVML_ERROR_INVALID_ARGUMENT;
    *device = &gpus[index];
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned int length) {
    double t;
    nvmlReturn_t rc = check(d, &t);
    if (rc != NVML_SUCCESS) return rc;
    snprintf(name, length, "Fake H100 80GB HBM3");
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *uuid, unsigned int length) {
    double t;
    nvmlReturn_t rc = check(d, &t);
    if (rc != NVML_SUCCESS) return rc;
    snprintf(uuid, length, "GPU-fa4e0000-0000-0000-0000-00000000000%u", d->index);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t d, unsigned int *limit) {
    double t;
    nvmlReturn_t rc = check(d, &t);
    if (rc != NVML_SUCCESS) return rc;
    *limit = 700000;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t d, unsigned long long *energy) {
    double t;
    if (d >= gpus && d < gpus + gpu_count && d->index == 0) counter_reads++;
    nvmlReturn_t rc = check(d, &t);
    if (rc != NVML_SUCCESS) return rc;
    if (d->index == 0 && !has_counter) return counter_rc;
    double stepped = (double)(long long)(t * 10) / 10;   /* the counter advances every 100 ms */
    if (d->index == 0 && counter_stuck) { *energy = counter_start; return NVML_SUCCESS; }
    if (d->index == 0 && counter_reads == glitch_at) { *energy = glitch_mj; return NVML_SUCCESS; }
    if (d->index == 0 && reset_at >= 0 && counter_reads >= reset_at) {
        if (reset_joules < 0) reset_joules = joules(0, stepped);
        *energy = (unsigned long long)((joules(0, stepped) - reset_joules) * 1000);
        return NVML_SUCCESS;
    }
    *energy = counter_start + (unsigned long long)(joules(d->index, stepped) * 1000);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *power) {
    double t;
    nvmlReturn_t rc = check(d, &t);
    if (rc != NVML_SUCCESS) return rc;
    if (d->index == 0 && !has_average) return NVML_ERROR_NOT_SUPPORTED;
    double from = t > 1 ? t - 1 : 0, span = t - from;
    double mean = span > 0 ? (joules(d->index, t) - joules(d->index, from)) / span : watts(d->index, t);
    *power = (unsigned int)(mean * 1000);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t d, int count, nvmlFieldValue_t *values) {
    double t;
    nvmlReturn_t rc = check(d, &t);
    if (rc != NVML_SUCCESS) return rc;
    if (!values) return NVML_ERROR_INVALID_ARGUMENT;
    for (int k = 0; k < count; k++) {
        values[k].timestamp = 0;
        values[k].latencyUsec = 0;
        if (values[k].fieldId == 186 && !(d->index == 0 && !has_instant)) {
            values[k].valueType = NVML_VALUE_TYPE_UNSIGNED_INT;
            values[k].value.uiVal = (unsigned int)(watts(d->index, t) * 1000);
            values[k].nvmlReturn = NVML_SUCCESS;
        } else {
            values[k].nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
        }
    }
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t *u) {
    double t;
    nvmlReturn_t rc = check(d, &t);
    if (rc != NVML_SUCCESS) return rc;
    u->gpu = 97;
    u->memory = 41;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *m) {
    double t;
    nvmlReturn_t rc = check(d, &t);
    if (rc != NVML_SUCCESS) return rc;
    m->total = 85899345920ULL;
    m->used = 10737418240ULL;
    m->free = m->total - m->used;
    return NVML_SUCCESS;
}

const char *nvmlErrorString(nvmlReturn_t result) {
    switch (result) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case 4: return "Insufficient Permissions";
    case NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
    default: return "Unknown Error";
    }
}
