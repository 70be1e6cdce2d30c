// essay.h compiles as C++ (-pedantic -Werror) and links against the library.
#include "essay.h"

#include <cstdio>

extern "C" int headertest_c(void);

int main()
{
    essay_corpus *c = nullptr;
    essay_error err;
    if (essay_corpus_default(&c, &err) != ESSAY_OK) {
        std::printf("0 passed, 1 failed\n");
        return 1;
    }
    bool ok = essay_corpus_article_count(c) == 1 && headertest_c() == ESSAY_CORPUS_OPTIONS_VERSION
              && essay_version_number() == ESSAY_VERSION_NUMBER;
    essay_corpus_free(c);
    std::printf("%d passed, %d failed\n", ok ? 1 : 0, ok ? 0 : 1);
    return ok ? 0 : 1;
}
