/* placeholder: filled in by its owner this session */
#include "cli.h"

int run_convert(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    report("not available yet");
    return 1;
}
