// `crawld --version`: crawld's version and the versions of the libraries it was built with.
#include <caf/config.hpp>
#include <rocksdb/version.h>

#include "app/commands.hpp"

namespace crawld::app {

std::string version_text() {
  auto caf = std::to_string(CAF_VERSION / 10000) + "." + std::to_string(CAF_VERSION / 100 % 100) + "." +
             std::to_string(CAF_VERSION % 100);
  return std::string("crawld ") + CRAWLD_VERSION + "\n" + "  CAF " + caf + "\n" + "  cpp-httplib " +
         CRAWLD_HTTPLIB_VERSION + "\n" + "  gumbo " + CRAWLD_GUMBO_VERSION + "\n" + "  RocksDB " +
         std::to_string(ROCKSDB_MAJOR) + "." + std::to_string(ROCKSDB_MINOR) + "." +
         std::to_string(ROCKSDB_PATCH) + "\n";
}

}  // namespace crawld::app
