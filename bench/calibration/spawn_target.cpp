// The exec calibration of `keyreq bench`: a trivial statically linked
// program (writes two bytes, exits 0). A bare posix_spawn of it is the unit a
// user provider's exec floor is measured in (<name>/exec/floor_calibrated_p50),
// so the figure carries over between machines.
#include <unistd.h>

int main() { return ::write(1, "{}", 2) == 2 ? 0 : 1; }
