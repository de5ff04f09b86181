#include "fetch/decoder.hpp"

#include <brotli/decode.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <vector>

namespace crawld::fetch {
namespace {

constexpr std::size_t chunk_size = 16 * 1024;

/// Appends `n` bytes of `data` to `out` up to `cap`; false when some had to be dropped.
bool append_capped(std::string& out, const unsigned char* data, std::size_t n, std::size_t cap) {
  const std::size_t room = cap > out.size() ? cap - out.size() : 0;
  out.append(reinterpret_cast<const char*>(data), std::min(n, room));
  return n <= room;
}

class identity_decoder final : public decoder {
 public:
  status feed(std::string_view in, std::string& out, std::size_t cap) override {
    if (full_) return status::full;
    if (!append_capped(out, reinterpret_cast<const unsigned char*>(in.data()), in.size(), cap)) {
      full_ = true;
      return status::full;
    }
    return status::ok;
  }
  bool complete() const override { return true; }
  const char* name() const override { return "identity"; }

 private:
  bool full_ = false;
};

/// gzip or zlib framing (auto-detected); with `sniff_raw`, raw deflate when the first two bytes
/// are neither a gzip magic nor a valid zlib header.
class zlib_decoder final : public decoder {
 public:
  explicit zlib_decoder(bool sniff_raw) : sniff_raw_(sniff_raw) {}
  ~zlib_decoder() override {
    if (initialized_) inflateEnd(&zs_);
  }

  status feed(std::string_view in, std::string& out, std::size_t cap) override {
    if (sticky_ != status::ok) return sticky_;
    if (initialized_) return run(in, out, cap);
    if (!sniff_raw_) {
      if (!start(15 + 32)) return sticky_ = status::corrupt;  // gzip or zlib, auto-detected
      return run(in, out, cap);
    }
    head_.append(in);  // at most one chunk, held only until the framing is known
    if (head_.size() < 2) return status::ok;
    raw_ = !looks_wrapped(static_cast<unsigned char>(head_[0]), static_cast<unsigned char>(head_[1]));
    if (!start(raw_ ? -15 : 15 + 32)) return sticky_ = status::corrupt;
    const std::string head = std::move(head_);
    head_.clear();
    return run(head, out, cap);
  }

  bool complete() const override { return initialized_ && ended_; }
  const char* name() const override { return sniff_raw_ ? "deflate" : "gzip"; }

 private:
  static bool looks_wrapped(unsigned char b0, unsigned char b1) {
    const bool gzip_magic = b0 == 0x1f && b1 == 0x8b;
    const bool zlib_header = (b0 & 0x0f) == 8 && (b0 >> 4) <= 7 && ((b0 << 8) | b1) % 31 == 0;
    return gzip_magic || zlib_header;
  }

  bool start(int window_bits) {
    if (inflateInit2(&zs_, window_bits) != Z_OK) return false;
    initialized_ = true;
    return true;
  }

  status run(std::string_view in, std::string& out, std::size_t cap) {
    constexpr std::size_t max_slice = 1u << 30;  // avail_in is 32-bit
    for (; in.size() > max_slice; in.remove_prefix(max_slice))
      if (run_slice(in.substr(0, max_slice), out, cap) != status::ok) return sticky_;
    return run_slice(in, out, cap);
  }

  status run_slice(std::string_view in, std::string& out, std::size_t cap) {
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    unsigned char buf[chunk_size];
    // Each pass consumes input or produces output (bounded by `cap`), so the loop ends.
    for (;;) {
      if (ended_) {
        if (zs_.avail_in == 0 || raw_ || ignore_rest_) return status::ok;
        if (zs_.next_in[0] != 0x1f) {  // not another gzip member: trailing garbage, ignored
          ignore_rest_ = true;
          return status::ok;
        }
        if (inflateReset(&zs_) != Z_OK) return sticky_ = status::corrupt;
        ended_ = false;
      }
      zs_.next_out = buf;
      zs_.avail_out = sizeof buf;
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      const std::size_t produced = sizeof buf - zs_.avail_out;
      if (rc == Z_NEED_DICT || rc == Z_DATA_ERROR || rc == Z_MEM_ERROR || rc == Z_STREAM_ERROR)
        return sticky_ = status::corrupt;
      if (!append_capped(out, buf, produced, cap)) return sticky_ = status::full;
      if (rc == Z_STREAM_END) {
        ended_ = true;
        continue;
      }
      if (rc == Z_BUF_ERROR) return status::ok;  // no progress possible: needs more input
      if (zs_.avail_in == 0 && zs_.avail_out != 0) return status::ok;
    }
  }

  bool sniff_raw_;
  bool initialized_ = false;
  bool raw_ = false;
  bool ended_ = false;
  bool ignore_rest_ = false;
  std::string head_;
  status sticky_ = status::ok;
  z_stream zs_{};
};

class brotli_decoder final : public decoder {
 public:
  brotli_decoder() : st_(BrotliDecoderCreateInstance(nullptr, nullptr, nullptr)) {}
  ~brotli_decoder() override {
    if (st_) BrotliDecoderDestroyInstance(st_);
  }

  status feed(std::string_view in, std::string& out, std::size_t cap) override {
    if (sticky_ != status::ok) return sticky_;
    if (!st_) return sticky_ = status::corrupt;
    auto next_in = reinterpret_cast<const std::uint8_t*>(in.data());
    std::size_t avail_in = in.size();
    std::uint8_t buf[chunk_size];
    // Each pass consumes input or produces output (bounded by `cap`), so the loop ends.
    while (!done_) {
      std::uint8_t* next_out = buf;
      std::size_t avail_out = sizeof buf;
      const auto rc =
          BrotliDecoderDecompressStream(st_, &avail_in, &next_in, &avail_out, &next_out, nullptr);
      if (rc == BROTLI_DECODER_RESULT_ERROR) return sticky_ = status::corrupt;
      if (!append_capped(out, buf, sizeof buf - avail_out, cap)) return sticky_ = status::full;
      if (rc == BROTLI_DECODER_RESULT_SUCCESS) done_ = true;
      if (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) return status::ok;
    }
    return status::ok;  // bytes after the end of the stream are ignored
  }

  bool complete() const override { return done_; }
  const char* name() const override { return "br"; }

 private:
  BrotliDecoderState* st_;
  bool done_ = false;
  status sticky_ = status::ok;
};

std::string lower_trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

}  // namespace

result<std::unique_ptr<decoder>> decoder::make(std::string_view encoding) {
  std::vector<std::string> codings;
  std::size_t pos = 0;
  while (pos <= encoding.size()) {
    const std::size_t comma = std::min(encoding.find(',', pos), encoding.size());
    std::string token = lower_trimmed(encoding.substr(pos, comma - pos));
    if (!token.empty() && token != "identity") codings.push_back(std::move(token));
    pos = comma + 1;
  }
  if (codings.empty()) return std::unique_ptr<decoder>(new identity_decoder());
  if (codings.size() > 1)
    return make_error("stacked Content-Encoding '" + std::string(encoding) + "' is not supported");
  const std::string& c = codings.front();
  if (c == "gzip" || c == "x-gzip") return std::unique_ptr<decoder>(new zlib_decoder(false));
  if (c == "deflate") return std::unique_ptr<decoder>(new zlib_decoder(true));
  if (c == "br") return std::unique_ptr<decoder>(new brotli_decoder());
  return make_error("unsupported Content-Encoding '" + c + "'");
}

}  // namespace crawld::fetch
