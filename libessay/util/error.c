/*
 * error.c - filling essay_error reports.
 *
 * One function builds every report, so every error message has the same
 * shape: "path:line:column: text", "path: text" or just "text".
 */
#include "../essay_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void essay_error_clear(essay_error *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}

int essay_error_set(essay_error *err, int code, const char *path, uint32_t line,
                    uint32_t column, uint64_t offset, const char *fmt, ...)
{
    if (!err)
        return code;
    memset(err, 0, sizeof(*err));
    err->code = code;
    err->line = line;
    err->column = column;
    err->offset = offset;
    if (path)
        snprintf(err->path, sizeof(err->path), "%s", path);

    int n = 0;
    if (path && line)
        n = snprintf(err->message, sizeof(err->message), "%s:%u:%u: ", path,
                     (unsigned)line, (unsigned)column);
    else if (path)
        n = snprintf(err->message, sizeof(err->message), "%s: ", path);
    if (n < 0 || (size_t)n >= sizeof(err->message))
        n = 0;

    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message + n, sizeof(err->message) - (size_t)n, fmt, ap);
    va_end(ap);
    return code;
}

const char *essay_strerror(int code)
{
    switch (code) {
    case ESSAY_OK: return "success";
    case ESSAY_EINVAL: return "invalid argument";
    case ESSAY_ENOMEM: return "out of memory";
    case ESSAY_EIO: return "input/output error";
    case ESSAY_ESYNTAX: return "syntax error";
    case ESSAY_ECORRUPT: return "corrupt index";
    case ESSAY_EVERSION: return "unsupported index format version";
    case ESSAY_ENOTFOUND: return "not found";
    case ESSAY_ELIMIT: return "limit exceeded";
    case ESSAY_EICU: return "ICU error";
    default: return "unknown error";
    }
}
