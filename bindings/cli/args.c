/*
 * args.c - the argument reader every subcommand uses, and usage errors.
 *
 * getopt_long would do most of this, but not `--corpus FILE...` (several
 * values for one option) and not operands mixed with options portably, so
 * the few rules live here: `--opt VALUE`, `--opt=VALUE`, `-n VALUE`,
 * `-nVALUE`, `--` ends options, a lone `-` is an operand.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void argp_init(argp *p, const cli_cmd *cmd, int argc, char **argv)
{
    memset(p, 0, sizeof *p);
    p->argc = argc;
    p->argv = argv;
    p->i = 1; /* argv[0] is the subcommand */
    p->cmd = cmd;
}

int argp_next(argp *p)
{
    p->name = NULL;
    p->name_len = 0;
    p->inline_value = NULL;
    if (p->i >= p->argc)
        return ARG_END;
    const char *a = p->argv[p->i++];
    p->arg = a;
    if (p->dashdash || a[0] != '-' || a[1] == '\0')
        return ARG_OPERAND;
    if (a[1] == '-') {
        if (a[2] == '\0') {
            p->dashdash = 1;
            return argp_next(p);
        }
        const char *eq = strchr(a, '=');
        p->name = a;
        p->name_len = eq ? (size_t)(eq - a) : strlen(a);
        p->inline_value = eq ? eq + 1 : NULL;
    } else {
        p->name = a;
        p->name_len = 2;
        p->inline_value = a[2] ? a + 2 : NULL;
    }
    return ARG_OPTION;
}

int argp_is(const argp *p, const char *long_name, char short_name)
{
    if (!p->name)
        return 0;
    if (p->name[1] != '-')
        return short_name && p->name[1] == short_name;
    return long_name && strlen(long_name) == p->name_len &&
           memcmp(p->name, long_name, p->name_len) == 0;
}

const char *argp_value(argp *p)
{
    if (p->inline_value)
        return p->inline_value;
    if (p->i >= p->argc) {
        usage_error(p->cmd, "option '%.*s' needs a value", (int)p->name_len, p->name);
        return NULL;
    }
    return p->argv[p->i++];
}

int argp_flag(argp *p)
{
    if (p->inline_value) {
        if (p->name[1] == '-')
            usage_error(p->cmd, "option '%.*s' takes no value", (int)p->name_len, p->name);
        else /* -xy: bundled short flags are not supported; say so plainly */
            usage_error(p->cmd, "unknown option '%s'", p->arg);
        return 0;
    }
    return 1;
}

int argp_size(argp *p, size_t *out)
{
    const char *v = argp_value(p);
    if (!v)
        return -1;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (!*v || *end || v[0] == '-' || v[0] == '+' || v[0] == ' ' || errno ||
        n > (unsigned long long)SIZE_MAX) {
        usage_error(p->cmd, "option '%.*s': '%s' is not a non-negative integer",
                    (int)p->name_len, p->name, v);
        return -1;
    }
    *out = (size_t)n;
    return 0;
}

static int push(const char ***paths, size_t *n, const char *path)
{
    const char **grown = realloc((void *)*paths, (*n + 1) * sizeof *grown);
    if (!grown)
        return oom();
    grown[(*n)++] = path;
    *paths = grown;
    return 0;
}

int argp_files(argp *p, const char ***paths, size_t *n_paths)
{
    int inline_form = p->inline_value != NULL;
    const char *first = argp_value(p);
    if (!first)
        return EXIT_TROUBLE;
    if (!*first)
        return usage_error(p->cmd, "option '%.*s' needs a file name", (int)p->name_len,
                           p->name);
    if (push(paths, n_paths, first))
        return EXIT_TROUBLE;
    if (inline_form) /* --corpus=FILE names exactly one file */
        return 0;
    while (p->i < p->argc && p->argv[p->i][0] != '-')
        if (push(paths, n_paths, p->argv[p->i++]))
            return EXIT_TROUBLE;
    return 0;
}

int usage_error(const cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    fputs("essay: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n\n", stderr);
    fputs(cmd->synopsis, stderr);
    if (cmd->name)
        fprintf(stderr, "\nFor more information, try 'essay %s --help'.\n", cmd->name);
    else
        fputs("\nFor more information, try 'essay --help'.\n", stderr);
    return EXIT_TROUBLE;
}

int cmd_help(const cli_cmd *cmd)
{
    out_puts(cmd->synopsis);
    if (cmd->help) {
        out_putc('\n');
        out_puts(cmd->help);
    }
    return EXIT_FOUND;
}
