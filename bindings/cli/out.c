/*
 * out.c - everything the CLI writes: stdout through a sticky error state,
 * JSON literals, colour decisions and the "essay: " diagnostics on stderr.
 *
 * Why sticky: a failed write to a pipe or a full disk must neither be
 * ignored (the user would get a silently truncated result) nor abort in the
 * middle of a loop holding library objects.  The first failure and its errno
 * are kept, every later write is skipped, and out_finish() decides the exit
 * status once, after the final fflush.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_errno; /* 0 = no failure yet */
static int use_color;

static void failed(void)
{
    if (!write_errno)
        write_errno = errno ? errno : EIO;
}

void out_write(const char *s, size_t len)
{
    if (write_errno || !len)
        return;
    errno = 0;
    if (fwrite(s, 1, len, stdout) != len)
        failed();
}

void out_puts(const char *s)
{
    out_write(s, strlen(s));
}

void out_putc(char c)
{
    if (write_errno)
        return;
    errno = 0;
    if (putchar((unsigned char)c) == EOF)
        failed();
}

void out_printf(const char *fmt, ...)
{
    if (write_errno)
        return;
    va_list ap;
    va_start(ap, fmt);
    errno = 0;
    if (vprintf(fmt, ap) < 0)
        failed();
    va_end(ap);
}

int out_ok(void)
{
    return write_errno == 0;
}

int out_finish(int status)
{
    if (!write_errno) {
        errno = 0;
        if (fflush(stdout) == EOF || ferror(stdout))
            failed();
    }
    if (!write_errno)
        return status;
    if (write_errno == EPIPE) /* the reader has all it wanted: end quietly */
        return status == EXIT_TROUBLE ? status : EXIT_FOUND;
    errorf("error writing to standard output: %s", strerror(write_errno));
    return EXIT_TROUBLE;
}

/* ---- JSON ---- */

void out_json_str(const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0; /* start of the pending run of bytes written as is */
    out_putc('"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c == '\b')
            esc = "\\b";
        else if (c == '\f')
            esc = "\\f";
        else if (c < 0x20 || c == 0x7f) {
            memcpy(u, "\\u00", 4);
            u[4] = hex[c >> 4];
            u[5] = hex[c & 15];
            u[6] = '\0';
            esc = u;
        }
        if (!esc)
            continue;
        out_write(s + run, i - run);
        out_puts(esc);
        run = i + 1;
    }
    out_write(s + run, len - run);
    out_putc('"');
}

void out_json_double(double v)
{
    if (!isfinite(v)) { /* JSON has no NaN or infinity */
        out_puts("null");
        return;
    }
    char buf[32];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    out_puts(buf);
}

/* ---- colour ---- */

void out_color_setup(color_mode mode)
{
    if (mode == COLOR_ALWAYS) {
        use_color = 1;
    } else if (mode == COLOR_NEVER) {
        use_color = 0;
    } else {
        /* https://no-color.org: any non-empty NO_COLOR disables colour. */
        const char *no_color = getenv("NO_COLOR");
        const char *term = getenv("TERM");
        use_color = isatty(STDOUT_FILENO) && !(no_color && *no_color) &&
                    !(term && strcmp(term, "dumb") == 0);
    }
}

int out_color(void)
{
    return use_color;
}

void out_sgr(const char *sgr)
{
    if (use_color)
        out_puts(sgr);
}

/* ---- diagnostics ---- */

static void vdiag(const char *prefix, const char *fmt, va_list ap)
{
    /* Keep stdout and stderr in order on a terminal. */
    if (!write_errno) {
        errno = 0;
        if (fflush(stdout) == EOF)
            failed();
    }
    fputs("essay: ", stderr);
    fputs(prefix, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void errorf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdiag("", fmt, ap);
    va_end(ap);
}

void warnf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdiag("warning: ", fmt, ap);
    va_end(ap);
}

int lib_error(const essay_error *err)
{
    if (err->message[0])
        errorf("%s", err->message);
    else
        errorf("%s", essay_strerror(err->code));
    return EXIT_TROUBLE;
}

void lib_warning(const essay_error *w)
{
    /* Located warnings already read "path:line:col: warning: ...". */
    if (strstr(w->message, "warning: "))
        errorf("%s", w->message);
    else
        warnf("%s", w->message);
}

int oom(void)
{
    errorf("out of memory");
    return EXIT_TROUBLE;
}
