/*
 * essay.c - main() of the `essay` command: global options (--help,
 * --version), the subcommand table and the final exit status.  Each
 * subcommand lives in a cmd_<group>.c file; output goes through out.c.
 */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static const cli_cmd *const commands[] = {
    &cli_cmd_search,
    &cli_cmd_show,
    &cli_cmd_list,
    &cli_cmd_tokenize,
    &cli_cmd_index,
    &cli_cmd_stats,
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const cli_cmd top = {
    NULL,
    NULL,
    NULL,
    "usage: essay <command> [<options>] [<args>]\n"
    "       essay <command> --help\n"
    "       essay --version\n",
    NULL,
};

static int top_help(void)
{
    out_puts(top.synopsis);
    out_puts("\nSearch a bilingual English + Chinese essay corpus, paragraph by paragraph.\n"
             "\nCommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        out_printf("  %-10s %s\n", commands[i]->name, commands[i]->summary);
    out_puts("\nOptions:\n"
             "  -h, --help     show this help; 'essay <command> --help' for one command\n"
             "  -V, --version  show the versions of essay and libessay\n"
             "\nWithout --corpus or --index, commands use the corpus built into libessay.\n"
             "\nExit status: 0 found / done, 1 nothing found, 2 error.\n");
    return EXIT_FOUND;
}

static int version(void)
{
    out_printf("essay %s\n", ESSAY_VERSION_STRING);
    out_printf("libessay %s (header %s)\n", essay_version_string(), ESSAY_VERSION_STRING);
    if (essay_version_number() != ESSAY_VERSION_NUMBER)
        warnf("libessay %s differs from the %s this program was built with",
              essay_version_string(), ESSAY_VERSION_STRING);
    return EXIT_FOUND;
}

static const cli_cmd *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

static int run(int argc, char **argv)
{
    if (argc < 2)
        return usage_error(&top, "no command given");
    const char *a = argv[1];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
        return top_help();
    if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0)
        return version();
    if (strcmp(a, "help") == 0) { /* git-style `essay help search` */
        if (argc < 3)
            return top_help();
        const cli_cmd *cmd = find_command(argv[2]);
        if (!cmd)
            return usage_error(&top, "'%s' is not an essay command", argv[2]);
        return cmd_help(cmd);
    }
    if (a[0] == '-')
        return usage_error(&top, "unknown option '%s'", a);
    const cli_cmd *cmd = find_command(a);
    if (!cmd)
        return usage_error(&top, "'%s' is not an essay command", a);
    return cmd->run(cmd, argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
    /* A reader that goes away (`essay search x | head -1`) must not kill us
     * mid-write: writes then fail with EPIPE and out_finish() ends quietly. */
    signal(SIGPIPE, SIG_IGN);
    return out_finish(run(argc, argv));
}
