#pragma once
// bench's writers format numbers with the platform kit's one number formatter
// (resolver/platform/number_format.hpp), under their old name bench::format.
#include "resolver/platform/number_format.hpp"

namespace keyreq::bench::format {
using namespace keyreq::format;
}  // namespace keyreq::bench::format
