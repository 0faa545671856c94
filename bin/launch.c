/* launch: run a command in a SquashFS image as an ordinary user. */
#include "config.h"

#include "account.h"
#include "bind.h"
#include "blockcache.h"
#include "container.h"
#include "environ.h"
#include "enforce.h"
#include "error.h"
#include "image.h"
#include "layer.h"
#include "log.h"
#include "path.h"
#include "policy.h"
#include "server.h"
#include "squashfs.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

/* -e and --env-file apply in command-line order, so both go in one list. */
struct env_step {
	bool is_file;
	const char *text;
};

struct options {
	const char *image;
	char **command;
	char **bind_texts;
	size_t bind_count;
	struct env_step *env_steps;
	size_t env_step_count;
	char **unset_patterns;
	size_t unset_count;
	const char *workdir;
	bool clean_env;
	bool fake_root;
	bool pid_namespace;
	bool private_tmp;
	bool no_home;
	bool no_image_env;
	bool no_entrypoint;
	bool show_config;
	bool write;
	const char *write_size;
	const char *overlay;
	const char *layer_driver;
	const char *fuse_threads;
	bool no_cache;
	int verbosity;
};

enum {
	OPT_ENV_FILE = 256,
	OPT_UNSET_ENV,
	OPT_CLEAN_ENV,
	OPT_ROOT,
	OPT_PID,
	OPT_PRIVATE_TMP,
	OPT_NO_HOME,
	OPT_WRITE_SIZE,
	OPT_OVERLAY,
	OPT_NO_IMAGE_ENV,
	OPT_LAYER_DRIVER,
	OPT_SHOW_CONFIG,
	OPT_NO_ENTRYPOINT,
	OPT_FUSE_THREADS,
	OPT_NO_CACHE,
};

static const struct option long_options[] = {
	{ "bind", required_argument, NULL, 'b' },
	{ "cd", required_argument, NULL, 'c' },
	{ "env", required_argument, NULL, 'e' },
	{ "env-file", required_argument, NULL, OPT_ENV_FILE },
	{ "unset-env", required_argument, NULL, OPT_UNSET_ENV },
	{ "clean-env", no_argument, NULL, OPT_CLEAN_ENV },
	{ "root", no_argument, NULL, OPT_ROOT },
	{ "pid", no_argument, NULL, OPT_PID },
	{ "private-tmp", no_argument, NULL, OPT_PRIVATE_TMP },
	{ "no-home", no_argument, NULL, OPT_NO_HOME },
	{ "write", no_argument, NULL, 'w' },
	{ "write-size", required_argument, NULL, OPT_WRITE_SIZE },
	{ "overlay", required_argument, NULL, OPT_OVERLAY },
	{ "no-image-env", no_argument, NULL, OPT_NO_IMAGE_ENV },
	{ "layer-driver", required_argument, NULL, OPT_LAYER_DRIVER },
	{ "show-config", no_argument, NULL, OPT_SHOW_CONFIG },
	{ "no-entrypoint", no_argument, NULL, OPT_NO_ENTRYPOINT },
	{ "fuse-threads", required_argument, NULL, OPT_FUSE_THREADS },
	{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
	fputs("Usage: launch [OPTION]... IMAGE [--] [COMMAND [ARG]...]\n"
	      "Run COMMAND inside IMAGE, a SquashFS file or a directory holding a root\n"
	      "file system, as the calling user, in new user and mount namespaces.\n"
	      "\n"
	      "Mounts:\n"
	      "  -b, --bind SRC[:DST[:ro]]  bind host path SRC on DST (default: SRC);\n"
	      "                             write ':' in a path as '\\:'; repeatable\n"
	      "  -c, --cd DIR               start in DIR, a path inside the container\n"
	      "                             (default: the current directory)\n"
	      "      --no-home              do not mount the home directory\n"
	      "      --private-tmp          give the container an empty tmpfs on /tmp\n"
	      "\n"
	      "Writable root:\n"
	      "  -w, --write                write to the container's root; changes go to a\n"
	      "                             layer in memory, discarded at exit\n"
	      "      --write-size SIZE      cap the in-memory layer (for example 512m, 2g)\n"
	      "      --overlay DIR          keep the writable layer in DIR, a directory you\n"
	      "                             own, between runs\n"
	      "      --layer-driver DRIVER  mount layers with 'kernel' overlayfs,\n"
	      "                             'fuse-overlayfs', or 'auto' (the default:\n"
	      "                             the kernel's, else fuse-overlayfs)\n"
	      "\n"
	      "Image server:\n"
	      "      --fuse-threads N       serve the SquashFS image with up to N threads,\n"
	      "                             1 to 64 (default: twice the CPUs, 4 to 16)\n"
	      "      --no-cache             do not share decompressed blocks with other\n"
	      "                             launches of the image (see launch(1))\n"
	      "\n"
	      "Identity and processes:\n"
	      "      --root                 appear as root (uid 0) inside; no real privilege\n"
	      "      --pid                  use a new PID namespace\n"
	      "\n"
	      "Environment (applied in this order; -e and --env-file in command-line order):\n"
	      "      --clean-env            start from an empty environment, not the host's\n"
	      "      --unset-env PATTERN    remove host variables matching the shell glob\n"
	      "      --no-image-env         ignore the image's environment files\n"
	      "      --no-entrypoint        run COMMAND itself, not through the image's\n"
	      "                             entrypoint\n"
	      "  -e, --env NAME=VALUE       set a variable; repeatable\n"
	      "      --env-file FILE        set the NAME=VALUE lines of FILE; repeatable\n"
	      "\n"
	      "Output:\n"
	      "  -v, --verbose              print decisions; -vv each step, -vvv a trace\n"
	      "  -q, --quiet                print errors only\n"
	      "      --show-config          print the site policy in effect and exit\n"
	      "  -h, --help                 print this help and exit\n"
	      "  -V, --version              print the version and exit\n"
	      "\n"
	      "Exit status: the command's; 128+N if it died from signal N; 125 if launch\n"
	      "itself failed; 126 if the command cannot be executed; 127 if it is not found.\n"
	      "See launch(1).\n", out);
}

static int usage_error(struct lerror *err, const char *what, const char *value)
{
	lerror_set(err, 0, "%s%s", what, value);
	return lerror_hint(err, "see 'launch --help'");
}

/* Explain why getopt_long() rejected TEXT, the argument it stopped at.
 * glibc sets optopt to an option's internal value, so the text itself is
 * examined: a misused, ambiguous or unknown long option, or an unknown
 * short one. */
static int option_error(const char *text, struct lerror *err)
{
	size_t length;
	const struct option *match = NULL;
	int matches = 0;

	if (strncmp(text, "--", 2) != 0) {
		if (strlen(text) == 2)
			lerror_set(err, 0, "unknown option '%s'", text);
		else
			lerror_set(err, 0, "unknown option '-%c' in '%s'", optopt ? optopt : '?', text);
		return lerror_hint(err, "see 'launch --help'");
	}
	length = strcspn(text + 2, "=");
	for (const struct option *o = long_options; o->name; o++) {
		if (strncmp(o->name, text + 2, length) != 0)
			continue;
		if (strlen(o->name) == length) {
			match = o;
			matches = 1;
			break;
		}
		match = o;
		matches++;
	}
	if (matches > 1) {
		lerror_set(err, 0, "ambiguous option '%s'", text);
		return lerror_hint(err, "write the option in full; see 'launch --help'");
	}
	if (matches == 1 && text[2 + length] == '=' && match->has_arg == no_argument) {
		lerror_set(err, 0, "option '--%s' takes no value, but '%s' gives one", match->name, text);
		return lerror_hint(err, "write '--%s' alone", match->name);
	}
	lerror_set(err, 0, "unknown option '%s'", text);
	return lerror_hint(err, "see 'launch --help'");
}

static void *append(void *array, size_t *count, size_t size)
{
	char *grown = realloc(array, (*count + 1) * size);

	if (!grown) {
		perror("launch: error: out of memory");
		exit(EXIT_LAUNCH_ERROR);
	}
	(*count)++;
	return grown;
}

/* Parse the command line. Return 1 when the program should exit 0 at once
 * (--help, --version), 0 to go on, -1 on a usage error. */
static int parse_options(int argc, char **argv, struct options *options, struct lerror *err)
{
	int opt;

	memset(options, 0, sizeof(*options));
	opterr = 0;
	/* '+' stops at the image, so options of the command stay its own. */
	while ((opt = getopt_long(argc, argv, "+:b:c:e:wvqhV", long_options, NULL)) != -1) {
		switch (opt) {
		case 'b':
			options->bind_texts = append(options->bind_texts, &options->bind_count, sizeof(char *));
			options->bind_texts[options->bind_count - 1] = optarg;
			break;
		case 'c':
			options->workdir = optarg;
			break;
		case 'e':
		case OPT_ENV_FILE:
			options->env_steps = append(options->env_steps, &options->env_step_count, sizeof(struct env_step));
			options->env_steps[options->env_step_count - 1] = (struct env_step){ opt == OPT_ENV_FILE, optarg };
			break;
		case OPT_UNSET_ENV:
			options->unset_patterns = append(options->unset_patterns, &options->unset_count, sizeof(char *));
			options->unset_patterns[options->unset_count - 1] = optarg;
			break;
		case OPT_CLEAN_ENV:
			options->clean_env = true;
			break;
		case OPT_ROOT:
			options->fake_root = true;
			break;
		case OPT_PID:
			options->pid_namespace = true;
			break;
		case OPT_PRIVATE_TMP:
			options->private_tmp = true;
			break;
		case OPT_NO_HOME:
			options->no_home = true;
			break;
		case 'w':
			options->write = true;
			break;
		case OPT_WRITE_SIZE:
			options->write_size = optarg;
			break;
		case OPT_OVERLAY:
			options->overlay = optarg;
			break;
		case OPT_NO_IMAGE_ENV:
			options->no_image_env = true;
			break;
		case OPT_LAYER_DRIVER:
			options->layer_driver = optarg;
			break;
		case OPT_FUSE_THREADS:
			options->fuse_threads = optarg;
			break;
		case OPT_NO_CACHE:
			options->no_cache = true;
			break;
		case OPT_SHOW_CONFIG:
			options->show_config = true;
			break;
		case OPT_NO_ENTRYPOINT:
			options->no_entrypoint = true;
			break;
		case 'v':
			options->verbosity++;
			break;
		case 'q':
			options->verbosity = -1;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("launch %s\n", PACKAGE_VERSION);
			return 1;
		case ':':
			return usage_error(err, "missing value for option ", argv[optind - 1]);
		default:
			return option_error(argv[optind - 1], err);
		}
	}
	if (options->show_config)
		return 0;
	if (optind >= argc)
		return usage_error(err, "no image given", "");
	options->image = argv[optind++];
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	/* Without a command, the image's entrypoint runs; main() checks
	 * that it has one. */
	options->command = argv + optind;
	return 0;
}

/* Environment files that images carry, applied in this order. */
static const char *const image_env_files[] = {
	"/etc/environment",	/* enroot */
	"/ch/environment",	/* Charliecloud */
	"/.launch/environment", /* launch's own */
};

/* Build the command's environment in the documented order (environ.h). */
static int build_environment(const struct options *options, const struct policy *policy,
			     const struct account *account, struct image *image, struct env_list *env,
			     struct lerror *err)
{
	const char *path;

	if (!options->clean_env && env_list_add_all(env, environ) < 0)
		return lerror_set(err, ENOMEM, "cannot copy the environment");
	for (size_t i = 0; i < options->unset_count; i++) {
		size_t removed = env_list_unset_matching(env, options->unset_patterns[i]);

		log_info("--unset-env '%s' removed %zu variables", options->unset_patterns[i], removed);
	}
	enforce_env_host(policy, env);
	for (size_t i = 0; !options->no_image_env && i < sizeof(image_env_files) / sizeof(image_env_files[0]); i++) {
		char *text;
		int found = image_read_file(image, image_env_files[i], 1 << 20, &text, err);

		if (found < 0)
			return -1;
		if (found > 0) {
			size_t applied = env_list_apply_image_text(env, text, image_env_files[i]);

			log_info("image environment %s set %zu variables", image_env_files[i], applied);
			free(text);
		}
	}

	if (env_list_set(env, "HOME", options->fake_root ? "/root" : account->home) < 0 ||
	    env_list_set(env, "USER", options->fake_root ? "root" : account->name) < 0 ||
	    env_list_set(env, "LOGNAME", options->fake_root ? "root" : account->name) < 0)
		return lerror_set(err, ENOMEM, "cannot set the environment");
	path = env_list_get(env, "PATH");
	if (!path || !*path) {
		if (env_list_set(env, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") < 0)
			return lerror_set(err, ENOMEM, "cannot set PATH");
	} else {
		/* Keep the host's PATH, which may name bound directories, but
		 * make sure the image's standard directories are searched. */
		static const char *const standard[] = { "/usr/local/bin", "/usr/bin", "/bin" };
		char *joined = strdup(path);

		for (size_t i = 0; joined && i < sizeof(standard) / sizeof(standard[0]); i++) {
			char *probe = NULL;

			if (asprintf(&probe, ":%s:", joined) < 0) {
				probe = NULL;
			} else {
				char needle[32];

				snprintf(needle, sizeof(needle), ":%s:", standard[i]);
				if (!strstr(probe, needle)) {
					char *longer;

					if (asprintf(&longer, "%s:%s", joined, standard[i]) < 0)
						longer = NULL;
					free(joined);
					joined = longer;
				}
			}
			free(probe);
		}
		if (!joined || env_list_set(env, "PATH", joined) < 0) {
			free(joined);
			return lerror_set(err, ENOMEM, "cannot set PATH");
		}
		free(joined);
	}

	for (size_t i = 0; i < options->env_step_count; i++) {
		const struct env_step *step = &options->env_steps[i];

		if (step->is_file ? env_file_load(env, step->text, err) < 0
				  : env_list_put(env, step->text, err) < 0)
			return -1;
	}
	if (enforce_env_final(policy, env, err) < 0)
		return -1;
	if (env_list_set(env, "LAUNCH_CONTAINER", image->path) < 0)
		return lerror_set(err, ENOMEM, "cannot set LAUNCH_CONTAINER");
	return 0;
}

/* Entrypoints that images carry, in order of preference: launch's own
 * executable, then enroot's command script, which sh runs. */
struct entrypoint {
	const char *path;
	const char *interpreter; /* or NULL to execute PATH itself */
};

static const struct entrypoint entrypoints[] = {
	{ "/.launch/entrypoint", NULL },
	{ "/etc/rc", "/bin/sh" },
};

/* Put the image's entrypoint in front of the command (or make it the
 * command when none was given). Store a new argv in *ARGV. */
static int apply_entrypoint(struct options *options, struct image *image, char ***argv,
			    struct lerror *err)
{
	size_t count = 0;

	*argv = NULL;
	for (char **arg = options->command; *arg; arg++)
		count++;
	for (size_t i = 0; !options->no_entrypoint && i < sizeof(entrypoints) / sizeof(entrypoints[0]); i++) {
		char *text;
		int found = image_read_file(image, entrypoints[i].path, 1 << 20, &text, err);
		size_t at = 0;

		if (found < 0)
			return -1;
		if (found == 0)
			continue;
		free(text);
		*argv = calloc(count + 3, sizeof(**argv));
		if (!*argv)
			return lerror_set(err, ENOMEM, "cannot build the command line");
		if (entrypoints[i].interpreter)
			(*argv)[at++] = (char *)entrypoints[i].interpreter;
		(*argv)[at++] = (char *)entrypoints[i].path;
		memcpy(*argv + at, options->command, count * sizeof(**argv));
		log_info("entrypoint: %s%s%s", entrypoints[i].interpreter ? entrypoints[i].interpreter : "",
			 entrypoints[i].interpreter ? " " : "", entrypoints[i].path);
		return 0;
	}
	if (count == 0) {
		lerror_set(err, 0, "no command given for image '%s'%s", options->image,
			   options->no_entrypoint ? "" : ", and the image has no entrypoint");
		return lerror_hint(err, "write the command after the image, for example: launch %s -- /bin/sh", options->image);
	}
	return 0;
}

/* Read the image's default working directory (/.launch/workdir, one
 * absolute path) into a new string *WORKDIR, or NULL without one. */
static int read_image_workdir(struct image *image, char **workdir, struct lerror *err)
{
	char *text;
	int found = image_read_file(image, "/.launch/workdir", PATH_MAX, &text, err);

	*workdir = NULL;
	if (found <= 0)
		return found;
	text[strcspn(text, "\r\n")] = '\0';
	if (text[0] != '/') {
		log_warning("ignoring /.launch/workdir in the image: '%s' is not an absolute path", text);
		free(text);
		return 0;
	}
	*workdir = text;
	return 0;
}

/* Load the site policy: LAUNCH_CONFIG_DIR when set (tests and trials; the
 * caller's own files are then accepted too), else SYSCONFDIR/launch. */
static int load_policy(struct policy *policy, struct lerror *err)
{
	const char *dir = getenv("LAUNCH_CONFIG_DIR");
	bool required = false;

#ifdef POLICY_REQUIRED
	required = true;
#endif
	if (dir && *dir)
		return policy_load(policy, dir, (long)getuid(), required, err);
	return policy_load(policy, SYSCONFDIR "/launch", -1, required, err);
}

/* Parse and check every bind before any namespace exists. */
static int check_binds(const struct options *options, const char *cwd,
		       struct bind_spec *binds, struct lerror *err)
{
	static const char *const kernel_trees[] = { "/proc", "/sys", "/dev" };

	for (size_t i = 0; i < options->bind_count; i++) {
		char resolved[PATH_MAX];
		struct stat st;

		if (bind_spec_parse(options->bind_texts[i], cwd, &binds[i], err) < 0)
			return -1;
		if (!realpath(binds[i].source, resolved)) {
			int saved = errno;

			if (saved == ENOENT || saved == ENOTDIR) {
				lerror_set(err, 0, "bind source '%s' not found on the host", binds[i].source);
				return lerror_hint(err, "check the path given to -b");
			}
			lerror_set(err, saved, "cannot resolve bind source '%s'", binds[i].source);
			return lerror_hint(err, "check the permissions of the directories on the path");
		}
		if (stat(resolved, &st) < 0) {
			lerror_set(err, errno, "cannot inspect bind source '%s'", binds[i].source);
			return -1;
		}
		binds[i].directory = S_ISDIR(st.st_mode);
		for (size_t k = 0; k < sizeof(kernel_trees) / sizeof(kernel_trees[0]); k++) {
			if (path_is_within(binds[i].destination, kernel_trees[k])) {
				lerror_set(err, 0, "invalid bind '%s': destination %s lies under %s, which launch mounts from the kernel",
					   options->bind_texts[i], binds[i].destination, kernel_trees[k]);
				return lerror_hint(err, "choose a destination outside /proc, /sys and /dev");
			}
		}
		if (access(resolved, R_OK) < 0) {
			lerror_set(err, errno, "bind source '%s' is not readable by you", binds[i].source);
			return lerror_hint(err, "bind only paths that you can read");
		}
		log_trace("bind source '%s' is '%s'", binds[i].source, resolved);
		free(binds[i].source);
		binds[i].source = strdup(resolved);
		if (!binds[i].source)
			return lerror_set(err, ENOMEM, "cannot record bind '%s'", options->bind_texts[i]);
	}
	return 0;
}

/* Parse TEXT, digits only, as a thread count from 1 to SERVER_MAX_THREADS. */
static bool parse_threads(const char *text, unsigned *threads)
{
	unsigned long value = 0;

	if (!*text)
		return false;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		value = value * 10 + (unsigned long)(*p - '0');
		if (value > SERVER_MAX_THREADS)
			return false;
	}
	if (value < 1)
		return false;
	*threads = (unsigned)value;
	return true;
}

/* Share decompressed blocks of the SquashFS IMAGE with other launches
 * (launch(1), "Image server"). Opened after every other check, so that a
 * refused launch leaves no cache file. Return -1 with ERR set only for an
 * invalid LAUNCH_CACHE_SIZE: the cache saves time, so a launch goes on
 * without it. */
static int use_block_cache(struct image *image, struct lerror *err)
{
	const char *size_text = getenv("LAUNCH_CACHE_SIZE");
	const char *dir = getenv("LAUNCH_CACHE_DIR");
	unsigned long long size = block_cache_default_size();
	struct lerror cache_err;
	char text[1024];

	if (size_text && *size_text && !enforce_parse_write_size(size_text, &size)) {
		lerror_set(err, 0, "invalid LAUNCH_CACHE_SIZE '%s'", size_text);
		return lerror_hint(err, "give a number of bytes above zero with an optional k, m or g suffix, or a percentage of memory, for example 512m or 5%%");
	}
	if (dir && !*dir)
		dir = NULL;
	/* TODO: launch.conf keys for administrators to place the cache, cap
	 * it or turn it off for a site. */
	lerror_clear(&cache_err);
	if (squashfs_use_cache(image->squashfs, dir, size, &cache_err) < 0) {
		lerror_format(&cache_err, text, sizeof(text));
		/* A directory the user named gets a warning. The default may
		 * simply not exist on this system. */
		if (dir)
			log_warning("running without the block cache: %s", text);
		else
			log_info("running without the block cache: %s", text);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options options;
	struct lerror err;
	struct account account = { 0 };
	struct image image = { .dir_fd = -1 };
	struct env_list env;
	struct bind_spec *binds = NULL;
	char cwd[PATH_MAX], home_source[PATH_MAX];
	unsigned fuse_threads = 0;
	bool mount_home;
	char *overlay_path = NULL, write_size[64];
	enum layer_driver layer_driver = LAYER_DRIVER_AUTO;
	struct policy policy;
	char **entry_argv = NULL;
	char forbidden_rule[PATH_MAX + 64], cwd_rule[PATH_MAX + 64];
	unsigned long long write_bytes;
	char *image_workdir = NULL;
	struct bind_spec *default_binds = NULL, *all_binds = NULL;
	size_t default_count = 0;
	int overlay_fd = -1;
	int exit_code = EXIT_LAUNCH_ERROR, rc;

	lerror_clear(&err);
	env_list_init(&env);
	policy_init(&policy);
	rc = parse_options(argc, argv, &options, &err);
	if (rc > 0)
		return 0;
	log_set_verbosity(options.verbosity);
	if (rc < 0 || load_policy(&policy, &err) < 0)
		goto fail;
	policy_describe(&policy.forbidden_bind_destinations.origin, "forbidden_destinations",
			forbidden_rule, sizeof(forbidden_rule));
	if (options.show_config) {
		policy_print(&policy, stdout);
		exit_code = 0;
		goto out;
	}

	if (!getcwd(cwd, sizeof(cwd))) {
		lerror_set(&err, errno, "cannot determine the current directory");
		lerror_hint(&err, "run launch from an existing directory");
		goto fail;
	}
	if (options.fuse_threads && !parse_threads(options.fuse_threads, &fuse_threads)) {
		lerror_set(&err, 0, "invalid --fuse-threads value '%s': give a whole number from 1 to %d",
			   options.fuse_threads, SERVER_MAX_THREADS);
		lerror_hint(&err, "1 serves the image with a single thread");
		goto fail;
	}
	if (account_from_host(&account, &err) < 0)
		goto fail;
	if (image_open(&image, options.image, &err) < 0 || enforce_image(&policy, &image, &err) < 0 ||
	    apply_entrypoint(&options, &image, &entry_argv, &err) < 0 ||
	    read_image_workdir(&image, &image_workdir, &err) < 0)
		goto fail;
	binds = calloc(options.bind_count + 1, sizeof(*binds));
	if (!binds) {
		lerror_set(&err, ENOMEM, "cannot record the binds");
		goto fail;
	}
	if (check_binds(&options, cwd, binds, &err) < 0)
		goto fail;
	for (size_t i = 0; i < options.bind_count; i++)
		if (enforce_bind(&policy, &binds[i], &err) < 0)
			goto fail;
	if (enforce_default_binds(&policy, &default_binds, &default_count, &err) < 0)
		goto fail;
	/* Default binds first: the user's may go on top of them. */
	all_binds = calloc(default_count + options.bind_count + 1, sizeof(*all_binds));
	if (!all_binds) {
		lerror_set(&err, ENOMEM, "cannot record the binds");
		goto fail;
	}
	memcpy(all_binds, default_binds, default_count * sizeof(*all_binds));
	memcpy(all_binds + default_count, binds, options.bind_count * sizeof(*all_binds));

	if (options.write_size && !options.write) {
		lerror_set(&err, 0, "--write-size %s needs --write", options.write_size);
		lerror_hint(&err, "add -w to write to an in-memory layer of that size");
		goto fail;
	}
	if (options.write_size && !enforce_parse_write_size(options.write_size, &write_bytes)) {
		lerror_set(&err, 0, "invalid size '%s' for --write-size", options.write_size);
		lerror_hint(&err, "give a number of bytes above zero with an optional k, m or g suffix, or a percentage of memory up to 100%%, for example 512m or 10%%");
		goto fail;
	}
	if (options.overlay && options.write_size) {
		lerror_set(&err, 0, "--write-size applies to the in-memory layer, not to --overlay %s", options.overlay);
		lerror_hint(&err, "drop --write-size; the overlay directory's file system sets the limit");
		goto fail;
	}
	if (options.layer_driver && strcmp(options.layer_driver, "auto") == 0) {
		layer_driver = LAYER_DRIVER_AUTO;
	} else if (options.layer_driver && strcmp(options.layer_driver, "kernel") == 0) {
		layer_driver = LAYER_DRIVER_KERNEL;
	} else if (options.layer_driver && strcmp(options.layer_driver, "fuse-overlayfs") == 0) {
		layer_driver = LAYER_DRIVER_FUSE;
	} else if (options.layer_driver) {
		lerror_set(&err, 0, "invalid value '%s' for --layer-driver", options.layer_driver);
		lerror_hint(&err, "use auto, kernel or fuse-overlayfs");
		goto fail;
	}
	if (fuse_threads) {
		if (image.kind == IMAGE_SQUASHFS)
			squashfs_set_threads(image.squashfs, fuse_threads);
		else
			log_info("--fuse-threads has no effect: image '%s' is a directory", image.path);
	}
	if (enforce_runtime(&policy, options.fake_root, &options.pid_namespace,
			    options.write || options.overlay, &err) < 0 ||
	    enforce_write_size(&policy, options.write ? options.write_size : NULL, write_size, sizeof(write_size), &err) < 0)
		goto fail;
	if (options.overlay && layer_open_directory(options.overlay, &overlay_path, &overlay_fd, &err) < 0)
		goto fail;

	mount_home = !options.no_home;
	if (mount_home && path_is_system(account.home)) {
		log_info("home directory %s not mounted: it is a system directory", account.home);
		mount_home = false;
	}
	if (mount_home && !realpath(account.home, home_source)) {
		log_warning("home directory %s not mounted: %s on the host; use --no-home to silence this",
			    account.home, strerror(errno));
		mount_home = false;
	}
	if (build_environment(&options, &policy, &account, &image, &env, &err) < 0)
		goto fail;
	log_info("user: %s (uid %lu, gid %lu)%s", account.name, (unsigned long)account.uid,
		 (unsigned long)account.gid, options.fake_root ? ", appearing as root" : "");

	if (image.kind == IMAGE_SQUASHFS && !options.no_cache && use_block_cache(&image, &err) < 0)
		goto fail;

	{
		struct container_config config = {
			.image = &image,
			.account = &account,
			.fake_root = options.fake_root,
			.pid_namespace = options.pid_namespace,
			.private_tmp = options.private_tmp,
			.mount_home = mount_home,
			.home_source = home_source,
			.cwd = cwd,
			.workdir = options.workdir,
			.binds = all_binds,
			.bind_count = default_count + options.bind_count,
			.layer = {
				.driver = layer_driver,
				.writable = options.write || options.overlay,
				.size = write_size[0] ? write_size : NULL,
				.directory = overlay_path,
				.directory_fd = overlay_fd,
			},
			.image_workdir = image_workdir,
			.forbidden = policy.forbidden_bind_destinations.items,
			.forbidden_count = policy.forbidden_bind_destinations.count,
			.forbidden_rule = forbidden_rule,
			.cwd_rule = enforce_cwd_bindable(&policy, cwd, cwd_rule, sizeof(cwd_rule)) ? NULL : cwd_rule,
			.argv = entry_argv ? entry_argv : options.command,
			.envp = env.entries,
		};

		if (container_run(&config, &exit_code, &err) < 0)
			goto fail;
	}
	goto out;

fail:
	log_error(&err);
	exit_code = err.exit_code;
out:
	for (size_t i = 0; binds && i < options.bind_count; i++)
		bind_spec_free(&binds[i]);
	free(binds);
	for (size_t i = 0; i < default_count; i++)
		bind_spec_free(&default_binds[i]);
	free(default_binds);
	free(all_binds);
	policy_free(&policy);
	free(entry_argv);
	free(image_workdir);
	free(options.bind_texts);
	free(options.env_steps);
	free(options.unset_patterns);
	env_list_free(&env);
	free(overlay_path);
	if (overlay_fd >= 0)
		close(overlay_fd);
	image_close(&image);
	account_free(&account);
	return exit_code;
}
