/*
 * rusage OUT PROGRAM ARGS...: run PROGRAM, then write its wait status,
 * user and system seconds and peak RSS (KiB) to OUT.  The benchmarks start
 * the programs they measure through this small process, because on Linux
 * a child's ru_maxrss also counts what its parent had resident when it
 * forked, which for a Python parent would swamp the figure.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct rusage ru;
	FILE *f;
	pid_t pid;
	int status;

	if (argc < 3) {
		fputs("usage: rusage OUT PROGRAM [ARGS...]\n", stderr);
		return 127;
	}
	pid = fork();
	if (pid < 0)
		return 127;
	if (pid == 0) {
		execv(argv[2], argv + 2);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		return 127;
	f = fopen(argv[1], "w");
	if (!f)
		return 127;
	fprintf(f, "%d %ld.%06ld %ld.%06ld %ld\n", status,
	    (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec,
	    (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec,
	    ru.ru_maxrss);
	return fclose(f) == 0 ? 0 : 127;
}
