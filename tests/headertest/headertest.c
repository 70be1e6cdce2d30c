/* essay.h compiles alone as strict C99 (-pedantic -Werror). */
#include "essay.h"

int headertest_c(void);

int headertest_c(void)
{
    essay_corpus_options opts = ESSAY_CORPUS_OPTIONS_INIT;
    essay_error err;
    (void)err;
    return (int)opts.version + ESSAY_VERSION_NUMBER * 0;
}
