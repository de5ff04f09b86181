// TOML job validation (conf/job_file.hpp load_job_string) on arbitrary text.
// Checks: never throws (an exception escaping is a crash), every error has a message and a
// position that is either none (0) or 1-based.
#include <cstdint>
#include <string>

#include "conf/job_file.hpp"
#include "tests/fuzz/fuzz_util.hpp"

using namespace crawld;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = conf::load_job_string(in, "fuzz.toml");
  for (const auto& e : r.errors) {
    if (e.message.empty()) crawld::fuzz::fail("error without a message");
    if (e.line < 0 || e.column < 0) crawld::fuzz::fail("negative position", e.message);
    (void)conf::to_string(e);
  }
  return 0;
}
