/*
 * A stub libnvidia-ml.so.1: the NVML C ABI that pynvml (nvidia-ml-py) calls, over fixed, simulated GPUs.
 *
 * The real pynvml bindings run unchanged over it (ctypes structs, function lookup, return-code checks,
 * versioned structs); only the driver's work is missing, so a call costs what pynvml and ctypes cost and
 * no more. Built and bound to pynvml by aivitals/collectors/nvml_stub.py, for tests and benchmarks.
 *
 * Build: cc -O2 -shared -fPIC -Wall -Wextra -Wl,-soname,libnvidia-ml.so.1 -o libnvidia-ml.so.1 nvml_stub.c
 *
 * Devices: AIVITALS_NVML_STUB_GPUS (0..8, default 2), read when NVML starts (init refcount 0 -> 1); any
 * other value makes init fail with NVML_ERROR_INVALID_ARGUMENT. Values for device index i, in NVML units:
 *
 *   function                                   value for device i
 *   -----------------------------------------  ------------------------------------------------------------
 *   nvmlSystemGetDriverVersion                 "999.99.99-stub" (no device)
 *   nvmlDeviceGetUUID                          "GPU-00000000-stub-0000-0000-00000000000i"
 *   nvmlDeviceGetName                          "NVIDIA Stub GPU"
 *   nvmlDeviceGetMigMode                       NVML_ERROR_NOT_SUPPORTED (no MIG, as on a non-MIG GPU)
 *   nvmlDeviceGetMaxMigDeviceCount             NVML_ERROR_NOT_SUPPORTED
 *   nvmlDeviceGetUtilizationRates              gpu = 40 + i %, memory = 20 + i %
 *   nvmlDeviceGetMemoryInfo_v2 (nvmlMemory_v2) total = 80 GiB, used = (10 + i) GiB, reserved = 512 MiB,
 *                                              free = total - used - reserved
 *   nvmlDeviceGetMemoryInfo (v1)               total = 80 GiB, used = (10 + i) GiB + 512 MiB (v1 counts the
 *                                              reserved memory as used, as NVML does), free = total - used
 *                                              (the same free as v2)
 *   nvmlDeviceGetComputeRunningProcesses_v3,   two processes: pid getpid() using (1 + i) GiB, then pid
 *     _v2 (and the v1 unversioned one)         getpid() + 1 using 2 GiB; gpuInstanceId = computeInstanceId =
 *                                              0xFFFFFFFF (not a MIG device)
 *   nvmlDeviceGetPowerUsage                    300000 + 1000 * i mW
 *   nvmlDeviceGetTotalEnergyConsumption        1000000000 + i mJ
 *   nvmlDeviceGetTemperature(V), GPU sensor    50 + i C (other sensors: NVML_ERROR_INVALID_ARGUMENT)
 *   nvmlDeviceGetClockInfo                     SM 1980, graphics 1980, memory 2619, video 1755 MHz
 *   nvmlDeviceGetCurrentClocksEventReasons,    0x1 (GPU idle) for i = 0, 0 otherwise
 *     nvmlDeviceGetCurrentClocksThrottleReasons
 *   nvmlDeviceGetTotalEccErrors                corrected = i, uncorrected = 0 (volatile and aggregate alike)
 *
 * As NVML: every call but nvmlInit* and nvmlErrorString answers NVML_ERROR_UNINITIALIZED (1) before init
 * and after the last shutdown; init is refcounted; a handle is a pointer to a static per-device struct, and
 * one that is not a current device's answers NVML_ERROR_INVALID_ARGUMENT (2); a NULL output pointer answers
 * NVML_ERROR_INVALID_ARGUMENT; a string buffer too short answers NVML_ERROR_INSUFFICIENT_SIZE (7); a wrong
 * struct version answers NVML_ERROR_ARGUMENT_VERSION_MISMATCH (25). Not thread-safe (tests and benchmarks).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

typedef int nvmlReturn_t;

enum {
    NVML_SUCCESS = 0,
    NVML_ERROR_UNINITIALIZED = 1,
    NVML_ERROR_INVALID_ARGUMENT = 2,
    NVML_ERROR_NOT_SUPPORTED = 3,
    NVML_ERROR_INSUFFICIENT_SIZE = 7,
    NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25,
};

#define MAX_DEVICES 8
#define DEFAULT_DEVICES 2
#define GiB (1024ULL * 1024ULL * 1024ULL)
#define MiB (1024ULL * 1024ULL)
#define NVML_VALUE_NOT_AVAILABLE_UINT 0xFFFFFFFFu
#define NVML_STRUCT_VERSION(type, ver) ((unsigned int)(sizeof(type) | ((ver) << 24U)))

/* Constants of nvml.h used here. */
enum { NVML_TEMPERATURE_GPU = 0 };
enum { NVML_CLOCK_GRAPHICS = 0, NVML_CLOCK_SM = 1, NVML_CLOCK_MEM = 2, NVML_CLOCK_VIDEO = 3 };
enum { NVML_MEMORY_ERROR_TYPE_CORRECTED = 0, NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1 };
enum { NVML_VOLATILE_ECC = 0, NVML_AGGREGATE_ECC = 1 };

/* The structs, laid out as nvml.h (and pynvml's ctypes mirrors) have them. */
typedef struct {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_t;

typedef struct {
    unsigned int version;
    unsigned long long total;
    unsigned long long reserved;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_v2_t;

typedef struct {
    unsigned int gpu;
    unsigned int memory;
} nvmlUtilization_t;

typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
} nvmlProcessInfo_v1_t;

typedef struct { /* _v2 and _v3 share this layout */
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId;
    unsigned int computeInstanceId;
} nvmlProcessInfo_t;

typedef struct {
    unsigned int version;
    unsigned int sensorType;
    int temperature;
} nvmlTemperature_v1_t;

_Static_assert(sizeof(nvmlMemory_v2_t) == 40, "nvmlMemory_v2_t must be 40 bytes (nvmlMemory_v2 = 0x02000028)");
_Static_assert(sizeof(nvmlProcessInfo_t) == 24, "nvmlProcessInfo_t must be 24 bytes");
_Static_assert(sizeof(nvmlTemperature_v1_t) == 12, "nvmlTemperature_v1_t must be 12 bytes");

#define nvmlMemory_v2 NVML_STRUCT_VERSION(nvmlMemory_v2_t, 2U)
#define nvmlTemperature_v1 NVML_STRUCT_VERSION(nvmlTemperature_v1_t, 1U)

struct nvmlDevice_st {
    unsigned int index;
};
typedef struct nvmlDevice_st *nvmlDevice_t;

static struct nvmlDevice_st devices[MAX_DEVICES] = {{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}};
static unsigned int device_count;
static unsigned int init_refcount;

/* --- library --------------------------------------------------------------------------------------- */

static nvmlReturn_t read_device_count(unsigned int *count) {
    const char *text = getenv("AIVITALS_NVML_STUB_GPUS");
    char *end = NULL;
    long value;

    if (text == NULL || *text == '\0') {
        *count = DEFAULT_DEVICES;
        return NVML_SUCCESS;
    }
    value = strtol(text, &end, 10);
    if (*end != '\0' || value < 0 || value > MAX_DEVICES)
        return NVML_ERROR_INVALID_ARGUMENT;
    *count = (unsigned int)value;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlInitWithFlags(unsigned int flags) {
    (void)flags;
    if (init_refcount == 0) {
        nvmlReturn_t ret = read_device_count(&device_count);
        if (ret != NVML_SUCCESS)
            return ret;
    }
    init_refcount++;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlInit_v2(void) { return nvmlInitWithFlags(0); }

EXPORT nvmlReturn_t nvmlInit(void) { return nvmlInitWithFlags(0); }

EXPORT nvmlReturn_t nvmlShutdown(void) {
    if (init_refcount == 0)
        return NVML_ERROR_UNINITIALIZED;
    init_refcount--;
    return NVML_SUCCESS;
}

EXPORT const char *nvmlErrorString(nvmlReturn_t result) {
    switch (result) {
    case 0: return "Success";
    case 1: return "Uninitialized";
    case 2: return "Invalid Argument";
    case 3: return "Not Supported";
    case 4: return "Insufficient Permissions";
    case 5: return "Already Initialized";
    case 6: return "Not Found";
    case 7: return "Insufficient Size";
    case 8: return "Insufficient External Power";
    case 9: return "Driver Not Loaded";
    case 10: return "Timeout";
    case 11: return "Interrupt Request Issue";
    case 12: return "NVML Shared Library Not Found";
    case 13: return "Function Not Found";
    case 14: return "Corrupted infoROM";
    case 15: return "GPU is lost";
    case 16: return "GPU requires restart";
    case 17: return "The operating system has blocked the request.";
    case 18: return "RM has detected an NVML/RM version mismatch.";
    case 19: return "In use by another client";
    case 20: return "Insufficient Memory";
    case 21: return "No data";
    case 22: return "The requested vgpu operation is not available on target device, because ECC is enabled";
    case 23: return "Insufficient resources for request";
    case 24: return "Frequency not supported";
    case 25: return "Argument version mismatch";
    case 26: return "Deprecated";
    case 27: return "Not ready";
    case 28: return "GPU not found";
    case 29: return "Invalid state";
    case 30: return "Reset type not supported";
    default: return "Unknown Error";
    }
}

static nvmlReturn_t copy_string(const char *value, char *buffer, unsigned int length) {
    size_t needed = strlen(value) + 1;

    if (buffer == NULL)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (length < needed)
        return NVML_ERROR_INSUFFICIENT_SIZE;
    memcpy(buffer, value, needed);
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length) {
    if (init_refcount == 0)
        return NVML_ERROR_UNINITIALIZED;
    return copy_string("999.99.99-stub", version, length);
}

/* --- devices --------------------------------------------------------------------------------------- */

/* NVML_SUCCESS and the device's index when NVML is up and ``handle`` is a current device, else the error. */
static nvmlReturn_t check(nvmlDevice_t handle, unsigned int *index) {
    unsigned int i;

    if (init_refcount == 0)
        return NVML_ERROR_UNINITIALIZED;
    for (i = 0; i < device_count; i++) {
        if (handle == &devices[i]) {
            *index = i;
            return NVML_SUCCESS;
        }
    }
    return NVML_ERROR_INVALID_ARGUMENT;
}

/* As check(), and NVML_ERROR_INVALID_ARGUMENT for a NULL output pointer. */
#define CHECK(handle, out, index)                                                                          \
    do {                                                                                                   \
        nvmlReturn_t checked_ = check((handle), &(index));                                                 \
        if (checked_ != NVML_SUCCESS)                                                                      \
            return checked_;                                                                               \
        if ((out) == NULL)                                                                                 \
            return NVML_ERROR_INVALID_ARGUMENT;                                                            \
    } while (0)

EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) {
    if (init_refcount == 0)
        return NVML_ERROR_UNINITIALIZED;
    if (count == NULL)
        return NVML_ERROR_INVALID_ARGUMENT;
    *count = device_count;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetCount(unsigned int *count) { return nvmlDeviceGetCount_v2(count); }

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
    if (init_refcount == 0)
        return NVML_ERROR_UNINITIALIZED;
    if (device == NULL || index >= device_count)
        return NVML_ERROR_INVALID_ARGUMENT;
    *device = &devices[index];
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t *device) {
    return nvmlDeviceGetHandleByIndex_v2(index, device);
}

EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length) {
    char text[48];
    unsigned int i;
    nvmlReturn_t ret = check(device, &i);

    if (ret != NVML_SUCCESS)
        return ret;
    snprintf(text, sizeof text, "GPU-00000000-stub-0000-0000-%012u", i);
    return copy_string(text, uuid, length);
}

EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length) {
    unsigned int i;
    nvmlReturn_t ret = check(device, &i);

    if (ret != NVML_SUCCESS)
        return ret;
    return copy_string("NVIDIA Stub GPU", name, length);
}

EXPORT nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int *currentMode, unsigned int *pendingMode) {
    unsigned int i;

    CHECK(device, currentMode, i);
    if (pendingMode == NULL)
        return NVML_ERROR_INVALID_ARGUMENT;
    return NVML_ERROR_NOT_SUPPORTED;
}

EXPORT nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t device, unsigned int *count) {
    unsigned int i;

    CHECK(device, count, i);
    return NVML_ERROR_NOT_SUPPORTED;
}

EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *utilization) {
    unsigned int i;

    CHECK(device, utilization, i);
    utilization->gpu = 40 + i;
    utilization->memory = 20 + i;
    return NVML_SUCCESS;
}

static void memory_of(unsigned int i, unsigned long long *total, unsigned long long *used,
                      unsigned long long *reserved) {
    *total = 80 * GiB;
    *used = (10 + i) * GiB;
    *reserved = 512 * MiB;
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory) {
    unsigned long long total, used, reserved;
    unsigned int i;

    CHECK(device, memory, i);
    memory_of(i, &total, &used, &reserved);
    memory->total = total;
    memory->used = used + reserved;
    memory->free = total - memory->used;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory) {
    unsigned long long total, used, reserved;
    unsigned int i;

    CHECK(device, memory, i);
    if (memory->version != nvmlMemory_v2)
        return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    memory_of(i, &total, &used, &reserved);
    memory->total = total;
    memory->reserved = reserved;
    memory->used = used;
    memory->free = total - used - reserved;
    return NVML_SUCCESS;
}

#define PROCESS_COUNT 2U

static void process_of(unsigned int i, unsigned int slot, unsigned int *pid, unsigned long long *used) {
    unsigned int self = (unsigned int)getpid();

    *pid = slot == 0 ? self : self + 1;
    *used = slot == 0 ? (1 + i) * GiB : 2 * GiB;
}

/* NVML's two-call protocol: *infoCount is the array's capacity in, the number of processes out. */
static nvmlReturn_t processes(nvmlDevice_t device, unsigned int *infoCount, void *infos, int v1) {
    unsigned int i, slot;

    CHECK(device, infoCount, i);
    if (*infoCount < PROCESS_COUNT) {
        *infoCount = PROCESS_COUNT;
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    if (infos == NULL)
        return NVML_ERROR_INVALID_ARGUMENT;
    for (slot = 0; slot < PROCESS_COUNT; slot++) {
        if (v1) {
            nvmlProcessInfo_v1_t *info = (nvmlProcessInfo_v1_t *)infos + slot;
            process_of(i, slot, &info->pid, &info->usedGpuMemory);
        } else {
            nvmlProcessInfo_t *info = (nvmlProcessInfo_t *)infos + slot;
            process_of(i, slot, &info->pid, &info->usedGpuMemory);
            info->gpuInstanceId = NVML_VALUE_NOT_AVAILABLE_UINT;
            info->computeInstanceId = NVML_VALUE_NOT_AVAILABLE_UINT;
        }
    }
    *infoCount = PROCESS_COUNT;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int *infoCount,
                                                            nvmlProcessInfo_t *infos) {
    return processes(device, infoCount, infos, 0);
}

EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t device, unsigned int *infoCount,
                                                            nvmlProcessInfo_t *infos) {
    return processes(device, infoCount, infos, 0);
}

EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t device, unsigned int *infoCount,
                                                         nvmlProcessInfo_v1_t *infos) {
    return processes(device, infoCount, infos, 1);
}

EXPORT nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *power) {
    unsigned int i;

    CHECK(device, power, i);
    *power = 300000 + 1000 * i;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long *energy) {
    unsigned int i;

    CHECK(device, energy, i);
    *energy = 1000000000ULL + i;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, unsigned int sensorType, unsigned int *temp) {
    unsigned int i;

    CHECK(device, temp, i);
    if (sensorType != NVML_TEMPERATURE_GPU)
        return NVML_ERROR_INVALID_ARGUMENT;
    *temp = 50 + i;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetTemperatureV(nvmlDevice_t device, nvmlTemperature_v1_t *temperature) {
    unsigned int i;

    CHECK(device, temperature, i);
    if (temperature->version != nvmlTemperature_v1)
        return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    if (temperature->sensorType != NVML_TEMPERATURE_GPU)
        return NVML_ERROR_INVALID_ARGUMENT;
    temperature->temperature = (int)(50 + i);
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, unsigned int type, unsigned int *clock) {
    unsigned int i;

    CHECK(device, clock, i);
    switch (type) {
    case NVML_CLOCK_GRAPHICS: *clock = 1980; break;
    case NVML_CLOCK_SM: *clock = 1980; break;
    case NVML_CLOCK_MEM: *clock = 2619; break;
    case NVML_CLOCK_VIDEO: *clock = 1755; break;
    default: return NVML_ERROR_INVALID_ARGUMENT;
    }
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t device, unsigned long long *reasons) {
    unsigned int i;

    CHECK(device, reasons, i);
    *reasons = i == 0 ? 0x1ULL : 0ULL;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device, unsigned long long *reasons) {
    return nvmlDeviceGetCurrentClocksEventReasons(device, reasons);
}

EXPORT nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t device, unsigned int errorType, unsigned int counterType,
                                                unsigned long long *eccCounts) {
    unsigned int i;

    CHECK(device, eccCounts, i);
    if (counterType != NVML_VOLATILE_ECC && counterType != NVML_AGGREGATE_ECC)
        return NVML_ERROR_INVALID_ARGUMENT;
    switch (errorType) {
    case NVML_MEMORY_ERROR_TYPE_CORRECTED: *eccCounts = i; break;
    case NVML_MEMORY_ERROR_TYPE_UNCORRECTED: *eccCounts = 0; break;
    default: return NVML_ERROR_INVALID_ARGUMENT;
    }
    return NVML_SUCCESS;
}
