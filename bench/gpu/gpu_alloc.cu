// gpu_alloc: allocates GPU memory in steps, optionally in a forked child too,
// so memwall's NVML figures can be checked against nvidia-smi.
// usage: gpu_alloc STEP_MIB NSTEPS HOLD_MS [child]
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
static int work(size_t step, int n, int hold_ms) {
  void *p[64];
  for (int i = 0; i < n && i < 64; i++) {
    if (cudaMalloc(&p[i], step) != cudaSuccess) { fprintf(stderr, "cudaMalloc failed\n"); return 1; }
    cudaMemset(p[i], 1, step);
    cudaDeviceSynchronize();
    usleep(hold_ms * 1000);
  }
  usleep(hold_ms * 1000);
  return 0;
}
int main(int argc, char **argv) {
  size_t step = (size_t)atoi(argv[1]) << 20;
  int n = atoi(argv[2]), hold = atoi(argv[3]);
  int child = argc > 4;
  pid_t pid = -1;
  if (child) { pid = fork(); if (pid == 0) return work(step / 2, n, hold); }
  int rc = work(step, n, hold);
  if (pid > 0) { int st; waitpid(pid, &st, 0); }
  return rc;
}
