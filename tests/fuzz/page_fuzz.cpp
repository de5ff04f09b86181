// Page record decoding (storage/page.hpp): every record version, LZ4 bodies included.
// Checks: a refusal is one line; a decoded record has a plain body, and encoding it again (plain
// and with its body compressed) decodes to the same record; no stated body size allocates more
// than LZ4 could expand the stored block to (libFuzzer's -rss_limit_mb catches that).
#include <cstdint>
#include <string>

#include "storage/page.hpp"
#include "tests/fuzz/fuzz_util.hpp"

using namespace crawld;

namespace {

bool same(const storage::page_record& a, const storage::page_record& b) {
  return a.url == b.url && a.final_url == b.final_url && a.status == b.status && a.outcome == b.outcome &&
         a.headers == b.headers && a.content_type == b.content_type && a.fetched_at_ms == b.fetched_at_ms &&
         a.duration_us == b.duration_us && a.depth == b.depth && a.redirect_chain == b.redirect_chain &&
         a.location == b.location && a.canonical == b.canonical && a.outlinks == b.outlinks &&
         a.wire_bytes == b.wire_bytes && a.truncated == b.truncated && a.body == b.body && a.request == b.request;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = storage::decode(in);
  if (!r) {
    if (r.message().empty() || r.message().find('\n') != std::string::npos)
      crawld::fuzz::fail("error message not one line", r.message());
    return 0;
  }
  if (r->codec != storage::body_codec::none) crawld::fuzz::fail("decode returned a compressed body");
  auto plain = storage::decode(storage::encode(*r));
  if (!plain || !same(*plain, *r)) crawld::fuzz::fail("plain re-encoding differs");
  storage::page_record packed = *r;
  storage::compress_body(packed);
  auto unpacked = storage::decode(storage::encode(packed));
  if (!unpacked || !same(*unpacked, *r)) crawld::fuzz::fail("compressed re-encoding differs");
  return 0;
}
