// switchbench-noop: the program the create harness's fork-exec and posix-spawn rows run.
// Linked statically (Package.swift), so an exec of it is the kernel's work plus glibc's static start-up:
// no dynamic loader, no shared libraries, no Swift runtime.
int main(void) { return 0; }
