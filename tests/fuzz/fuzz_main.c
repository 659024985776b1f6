/*
 * fuzz_main.c - standalone driver for the fuzz targets: replays each file (or
 * every file in each directory) given on the command line through
 * LLVMFuzzerTestOneInput. Built when --enable-fuzzer is off, so make check
 * replays the corpus under the normal (and sanitizer) builds.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size);

#define FUZZ_MAX_INPUT (4 * 1024 * 1024)

static int run_file(char const *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (!fp) {
		fprintf(stderr, "fuzz_main: cannot open %s\n", path);
		return -1;
	}
	buf = malloc(FUZZ_MAX_INPUT);
	if (!buf) {
		fclose(fp);
		return -1;
	}
	n = fread(buf, 1, FUZZ_MAX_INPUT, fp);
	fclose(fp);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int i;
	int count = 0;
	int failed = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "fuzz_main: %s: not found\n", argv[i]);
			failed++;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *de;

			if (!d) {
				failed++;
				continue;
			}
			while ((de = readdir(d)) != NULL) {
				char path[4096];

				if (de->d_name[0] == '.') continue;
				snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
				if (run_file(path) != 0) failed++;
				else count++;
			}
			closedir(d);
		} else {
			if (run_file(argv[i]) != 0) failed++;
			else count++;
		}
	}
	printf("replayed %d inputs, %d unreadable\n", count, failed);
	return failed ? 1 : 0;
}
