/*
 * Programs without a C library for the start-up case of the benchmarks, so
 * that the time measured is the launcher's and not that of loading a libc.
 * Built with gcc -static -nostdlib: without MESSAGE it exits with status 0
 * like true(1); with -DMESSAGE='"text\n"' it first writes the text to
 * standard output, which shows that a launcher ran the image's program.
 */

#if defined(__x86_64__)

static long syscall3(long number, long a, long b, long c)
{
    long result;

    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(number), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return result;
}

enum { SYS_WRITE = 1, SYS_EXIT_GROUP = 231 };

#elif defined(__aarch64__)

static long syscall3(long number, long a, long b, long c)
{
    register long x8 __asm__("x8") = number;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;

    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
    return x0;
}

enum { SYS_WRITE = 64, SYS_EXIT_GROUP = 94 };

#else
#error "tiny.c supports x86_64 and aarch64 only"
#endif

__attribute__((noreturn)) void _start(void)
{
#ifdef MESSAGE
    static const char message[] = MESSAGE;

    if (syscall3(SYS_WRITE, 1, (long)message, sizeof message - 1) != sizeof message - 1)
        syscall3(SYS_EXIT_GROUP, 1, 0, 0);
#endif
    syscall3(SYS_EXIT_GROUP, 0, 0, 0);
    __builtin_unreachable();
}
