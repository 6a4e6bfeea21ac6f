"""A GPU load that needs nothing but the NVIDIA driver: a PTX kernel of dependent FMAs, JIT-compiled and launched
through libcuda's driver API with ctypes (no CUDA toolkit, no PyTorch).

    python3 gpu_load.py steady|bursty SECONDS

steady keeps the GPU busy; bursty alternates 200 ms busy and 200 ms idle, the pattern that separates an
energy counter from a 1 s power average. Writes nothing to stdout (wattprint run prints its JSON there).
"""
import ctypes
import sys
import time

PTX = r"""
.version 7.0
.target sm_70
.address_size 64
.visible .entry burn(.param .u64 out, .param .u32 iterations)
{
    .reg .pred %p;
    .reg .f32 %a, %b, %c, %d;
    .reg .u32 %i, %n, %t;
    .reg .u64 %out;
    ld.param.u64 %out, [out];
    ld.param.u32 %n, [iterations];
    mov.u32 %t, %tid.x;
    cvt.rn.f32.u32 %a, %t;
    mov.f32 %b, 0f3F7FFFFF;
    mov.f32 %c, 0f3F800000;
    mov.f32 %d, %a;
    mov.u32 %i, 0;
LOOP:
    fma.rn.f32 %a, %a, %b, %c;
    fma.rn.f32 %d, %d, %b, %c;
    fma.rn.f32 %a, %a, %b, %c;
    fma.rn.f32 %d, %d, %b, %c;
    add.u32 %i, %i, 1;
    setp.lt.u32 %p, %i, %n;
    @%p bra LOOP;
    add.f32 %a, %a, %d;
    cvta.to.global.u64 %out, %out;
    st.global.f32 [%out], %a;
    ret;
}
"""


def check(rc, what):
    if rc != 0:
        sys.exit(f"gpu_load: {what} failed with CUDA error {rc}")


def main():
    pattern, seconds = sys.argv[1], float(sys.argv[2])
    cuda = ctypes.CDLL("libcuda.so.1")
    check(cuda.cuInit(0), "cuInit")
    device, context, module, function = ctypes.c_int(), ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
    check(cuda.cuDeviceGet(ctypes.byref(device), 0), "cuDeviceGet")
    sms = ctypes.c_int()
    check(cuda.cuDeviceGetAttribute(ctypes.byref(sms), 16, device), "cuDeviceGetAttribute(MULTIPROCESSOR_COUNT)")
    check(cuda.cuCtxCreate_v2(ctypes.byref(context), 0, device), "cuCtxCreate_v2")
    check(cuda.cuModuleLoadData(ctypes.byref(module), ctypes.c_char_p(PTX.encode())), "cuModuleLoadData")
    check(cuda.cuModuleGetFunction(ctypes.byref(function), module, b"burn"), "cuModuleGetFunction")
    out = ctypes.c_uint64()
    check(cuda.cuMemAlloc_v2(ctypes.byref(out), ctypes.c_size_t(4)), "cuMemAlloc_v2")
    iterations = ctypes.c_uint32(20000)
    args = (ctypes.c_void_p * 2)(ctypes.cast(ctypes.byref(out), ctypes.c_void_p), ctypes.cast(ctypes.byref(iterations), ctypes.c_void_p))

    def launch_for(busy):
        end = time.monotonic() + busy
        launches = 0
        while time.monotonic() < end:
            check(cuda.cuLaunchKernel(function, sms.value * 8, 1, 1, 1024, 1, 1, 0, None, args, None), "cuLaunchKernel")
            check(cuda.cuCtxSynchronize(), "cuCtxSynchronize")
            launches += 1
        return launches

    start = time.monotonic()
    launches = 0
    while time.monotonic() - start < seconds:
        if pattern == "steady":
            launches += launch_for(1.0)
        else:
            launches += launch_for(0.2)
            time.sleep(0.2)
    print(f"gpu_load: {pattern}, {launches} launches in {time.monotonic() - start:.1f} s on {sms.value} SMs", file=sys.stderr)


if __name__ == "__main__":
    main()
