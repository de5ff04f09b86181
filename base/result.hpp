#pragma once
/// A small value-or-error type used across module boundaries (no exceptions cross them).
///
/// `result<T>` holds either a T or an `error` with a one-line, human-readable message that names
/// the thing that failed ("cannot open store 'x': locked by another process"). `result<void>`
/// holds nothing or an error. Not thread-safe beyond what T is.
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

inline error make_error(std::string message) { return error{std::move(message)}; }

}  // namespace crawld
