#pragma once
/// A small value-or-error type used across module boundaries (no exceptions cross them).
///
/// `result<T>` holds either a T or an `error` with a one-line, human-readable message that names
/// the thing that failed ("cannot open store 'x': locked by another process"). `result<void>`
/// holds nothing or an error. Not thread-safe beyond what T is.
#include <algorithm>
#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace crawld {

struct error {
  std::string message;
};

template <class T>
class result {
 public:
  result(T value) : v_(std::move(value)) {}
  result(error e) : v_(std::move(e)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const error& err() const { assert(!ok()); return std::get<1>(v_); }
  const std::string& message() const { return err().message; }

 private:
  std::variant<T, error> v_;
};

template <>
class result<void> {
 public:
  result() = default;
  result(error e) : e_(std::move(e)) {}
  bool ok() const { return !e_; }
  explicit operator bool() const { return ok(); }
  const error& err() const { assert(!ok()); return *e_; }
  const std::string& message() const { return err().message; }

 private:
  std::optional<error> e_;
};

/// An error with `message` made one line: line breaks and other control characters (bad input
/// quoted in a message may hold any byte) become `\n`, `\r`, `\xNN`; more than 4 KiB is cut with a
/// note of how much was left out.
inline error make_error(std::string message) {
  constexpr std::size_t max_size = 4096;
  bool clean = message.size() <= max_size;
  for (std::size_t i = 0; clean && i < message.size(); ++i) {
    auto c = static_cast<unsigned char>(message[i]);
    clean = (c >= 0x20 && c != 0x7f) || c == '\t';
  }
  if (clean)
    return error{std::move(message)};
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::min(message.size(), max_size) + 32);
  std::size_t i = 0;
  for (; i < message.size() && out.size() < max_size; ++i) {
    auto c = static_cast<unsigned char>(message[i]);
    if ((c >= 0x20 && c != 0x7f) || c == '\t')
      out += static_cast<char>(c);
    else if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else {
      out += "\\x";
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  if (i < message.size())
    out += "... (" + std::to_string(message.size() - i) + " more bytes)";
  return error{std::move(out)};
}

}  // namespace crawld
