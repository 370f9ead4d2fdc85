#include "CSwitchBench.h"

// The commit this binary was built from, written at build time by scripts/build-static.sh
// (`swift build -Xcc -DSB_GIT_COMMIT='"<12 hex>[+dirty]"'`); "" in any other build, where
// BuildInfo.gitCommit asks git at run time instead.
#ifndef SB_GIT_COMMIT
#define SB_GIT_COMMIT ""
#endif

const char *sb_git_commit(void) { return SB_GIT_COMMIT; }
