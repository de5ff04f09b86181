#pragma once
/// Raw listening sockets for the test servers (the synthetic web's silent and refusing hosts, the
/// hostile server). Thread-safe.
#include <cstdint>
#include <string>

namespace crawld::testsite {

/// A TCP socket bound to address:port (port 0: any) with SO_REUSEADDR only, listening with
/// `backlog` when > 0 (0: bound but not listening, so connections are refused). Writes the bound
/// port into `port`. -1 with errno set on failure.
int bind_tcp(const std::string& address, std::uint16_t& port, int backlog);

}  // namespace crawld::testsite
