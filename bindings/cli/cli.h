/*
 * cli.h - what the files of the `essay` command share: the output layer
 * (out.c: checked stdout writes, JSON strings, colour), the argument
 * reader (args.c), the corpus loader and the subcommand entry points.
 *
 * The CLI uses the public API only (essay.h), like any other program.
 */
#ifndef ESSAY_CLI_H
#define ESSAY_CLI_H

#include "essay.h"

#include <stdarg.h>
#include <stddef.h>

/* Exit statuses, grep-like. */
#define EXIT_FOUND 0   /* success, something found or done */
#define EXIT_NONE 1    /* ran fine, nothing found */
#define EXIT_TROUBLE 2 /* any error, usage errors included */

#if defined(__GNUC__)
#define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CLI_PRINTF(f, a)
#endif

/* ---- out.c: stdout through one sticky-error layer --------------------------
 * Every write to stdout goes through these calls.  The first failure is
 * remembered (with its errno) and later writes become no-ops, so loops can
 * stop early with out_ok().  out_finish() flushes and turns the remembered
 * failure into the exit status: a closed pipe (EPIPE; SIGPIPE is ignored)
 * ends quietly with 0, anything else is reported and gives 2. */

void out_write(const char *s, size_t len);
void out_puts(const char *s);
void out_putc(char c);
void out_printf(const char *fmt, ...) CLI_PRINTF(1, 2);
/* 1 while no write to stdout has failed. */
int out_ok(void);
/* Flush stdout and fold write failures into `status`. */
int out_finish(int status);

/* A JSON string literal, quotes included.  Control characters, quotes and
 * backslashes are escaped; UTF-8 is kept as it is. */
void out_json_str(const char *s, size_t len);
/* A JSON number for a double: shortest form that reads back the same. */
void out_json_double(double v);

/* Colour.  out_color_setup() decides once from --color and the terminal. */
typedef enum { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER } color_mode;
void out_color_setup(color_mode mode);
int out_color(void);
#define SGR_MATCH "\033[1;31m" /* highlights: bold red */
#define SGR_HEAD "\033[35m"    /* hit headers: magenta, like rg's paths */
#define SGR_DIM "\033[2m"      /* labels of aligned pairs */
#define SGR_RESET "\033[0m"
/* Write `sgr` only when colouring. */
void out_sgr(const char *sgr);

/* Diagnostics on stderr, always prefixed "essay: ". */
void errorf(const char *fmt, ...) CLI_PRINTF(1, 2);
void warnf(const char *fmt, ...) CLI_PRINTF(1, 2);
/* Report a library error (its message carries the location) and return 2. */
int lib_error(const essay_error *err);
/* Report a library warning (a corpus or index-open warning). */
void lib_warning(const essay_error *w);
/* "essay: out of memory", return 2. */
int oom(void);

/* ---- args.c: a small getopt_long for subcommands ----------------------------
 * Long options take values as `--opt VALUE` or `--opt=VALUE`, short ones as
 * `-n VALUE` or `-nVALUE`; `--` ends the options.  Options and operands may
 * be mixed, in any order (as git and ripgrep allow). */

typedef struct cli_cmd cli_cmd;

typedef struct argp {
    int argc;
    char **argv;
    int i;               /* next argv index */
    int dashdash;        /* after "--": everything is an operand */
    const cli_cmd *cmd;  /* for usage messages */
    const char *arg;     /* the current argument as typed */
    const char *name;    /* current option name, e.g. "--limit" or "-n" */
    size_t name_len;
    const char *inline_value; /* value after '=' or glued to a short option */
} argp;

enum { ARG_END = 0, ARG_OPTION = 1, ARG_OPERAND = 2 };

void argp_init(argp *p, const cli_cmd *cmd, int argc, char **argv);
/* Advance: ARG_END, ARG_OPTION (p->name) or ARG_OPERAND (p->arg). */
int argp_next(argp *p);
/* Is the current option `long_name` (e.g. "--limit") or `short_name` ('n',
 * 0 for none)? */
int argp_is(const argp *p, const char *long_name, char short_name);
/* The option's value, or NULL after a usage error was printed. */
const char *argp_value(argp *p);
/* A flag option: 1, or 0 after a usage error (a value was given). */
int argp_flag(argp *p);
/* A non-negative integer value; -1 after a usage error. */
int argp_size(argp *p, size_t *out);
/* --corpus FILE...: the value and every following argument that does not
 * start with '-' (before "--").  Appends to *paths.  0 ok, else 2. */
int argp_files(argp *p, const char ***paths, size_t *n_paths);
/* Report an unknown option / stray operand / bad value, print the command's
 * synopsis on stderr, and return 2. */
int usage_error(const cli_cmd *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);

/* ---- subcommands ------------------------------------------------------------ */

struct cli_cmd {
    const char *name;
    int (*run)(const cli_cmd *cmd, int argc, char **argv); /* argv[0] = name */
    const char *summary;  /* one line for `essay --help` */
    const char *synopsis; /* "usage: essay list ..." lines */
    const char *help;     /* the rest of `essay CMD --help` */
};

/* Print the full help of `cmd` on stdout. */
int cmd_help(const cli_cmd *cmd);

/* Shared by subcommands: --lang values and corpus loading (cmd_corpus.c). */
int parse_lang(const cli_cmd *cmd, const char *value, int allow_both, int *lang_out);
const char *lang_name(essay_lang lang);
/* Load `paths` (n > 0) or the embedded corpus (n == 0); warnings go to
 * stderr.  0 or 2 (the error is printed). */
int load_corpus(const char *const *paths, size_t n_paths, essay_corpus **out);

/* argv[first..argc) joined by single spaces, malloc'd (NULL: out of
 * memory); *len_out gets its length.  Query and tokenize text. */
char *join_args(char **argv, int first, int argc, size_t *len_out);

/* The index to search (cmd_index.c): `index_path` opened, `paths` (n > 0)
 * indexed in memory with `threads`, or the built-in corpus.  0 or 2. */
int open_index(const char *const *paths, size_t n_paths, const char *index_path,
               unsigned threads, essay_index **out);

int cmd_search(const cli_cmd *cmd, int argc, char **argv);
int cmd_index(const cli_cmd *cmd, int argc, char **argv);
int cmd_stats(const cli_cmd *cmd, int argc, char **argv);
int cmd_list(const cli_cmd *cmd, int argc, char **argv);
int cmd_show(const cli_cmd *cmd, int argc, char **argv);
int cmd_tokenize(const cli_cmd *cmd, int argc, char **argv);

extern const cli_cmd cli_cmd_search, cli_cmd_index, cli_cmd_stats;
extern const cli_cmd cli_cmd_list, cli_cmd_show, cli_cmd_tokenize;

#endif /* ESSAY_CLI_H */
