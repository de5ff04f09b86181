// HTTP header and status handling on arbitrary bytes: Retry-After (fetch/retry_after.hpp), the
// Content-Encoding decoder (fetch/decoder.hpp), outcome classification and robots status mapping.
// Input: "HEADER-VALUE\nBODY". The header value is parsed as Retry-After and used as the
// Content-Encoding; the body is fed to the decoder in pieces whose sizes come from its bytes.
// Checks: the decoder never exceeds its cap, `full` leaves exactly cap bytes, a status is sticky;
// Retry-After never exceeds its cap and is never negative.
#include <chrono>
#include <cstdint>
#include <string>

#include "fetch/decoder.hpp"
#include "fetch/outcome.hpp"
#include "fetch/retry_after.hpp"
#include "fetch/robots.hpp"
#include "fetch/session.hpp"
#include "tests/fuzz/fuzz_util.hpp"

using namespace crawld;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto [value, body] = fuzz::first_line(in);
  if (body.data() == nullptr) body = {};

  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  const auto cap_delay = std::chrono::milliseconds(3'600'000);
  if (auto d = fetch::parse_retry_after(value, now, cap_delay))
    if (*d < std::chrono::milliseconds(0) || *d > cap_delay)
      crawld::fuzz::fail("retry-after out of range", value);

  const std::size_t cap = 64 * 1024;
  if (auto dec = fetch::decoder::make(value)) {
    std::string out;
    fetch::decoder::status last = fetch::decoder::status::ok;
    std::size_t pos = 0;
    int pieces = 0;
    while (pos < body.size() && pieces++ < 64) {
      std::size_t n = 1 + static_cast<unsigned char>(body[pos]) * 37 % 4096;
      auto piece = body.substr(pos, n);
      pos += piece.size();
      auto st = (*dec)->feed(piece, out, cap);
      if (out.size() > cap) crawld::fuzz::fail("decoder exceeded its cap");
      if (last != fetch::decoder::status::ok && st != last) crawld::fuzz::fail("decoder status not sticky");
      if (st == fetch::decoder::status::full && out.size() != cap)
        crawld::fuzz::fail("full without exactly cap bytes");
      last = st;
    }
    (void)(*dec)->complete();
    (void)(*dec)->name();
  }

  fetch::response r;
  r.status = body.size() >= 2 ? (static_cast<unsigned char>(body[0]) << 8 | static_cast<unsigned char>(body[1])) % 1000 : 0;
  r.headers.emplace_back("Content-Type", std::string(value));
  r.headers.emplace_back("Retry-After", std::string(value));
  (void)fetch::to_string(fetch::classify(r));
  (void)r.header("content-type");
  (void)r.is_html();
  (void)r.is_redirect();
  (void)fetch::robots_from_response(r.status, true, body);
  return 0;
}
