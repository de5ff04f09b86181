#include "fetch/outcome.hpp"

#include "fetch/session.hpp"

namespace crawld::fetch {

namespace {
constexpr std::array<const char*, outcome_count> names = {
  "ok", "redirect", "not_found", "client_error", "server_error",
  "timeout", "network_error", "too_large", "robots_denied", "host_parked",
  "proxy_auth", "dns_error", "tls_error",
};
}  // namespace

const char* to_string(outcome o) { return names[static_cast<std::size_t>(o)]; }

bool from_string(std::string_view name, outcome& out) {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (name == names[i]) {
      out = static_cast<outcome>(i);
      return true;
    }
  return false;
}

outcome classify(const response& r) {
  switch (r.error) {
    case fetch_error::none: break;
    case fetch_error::too_large: return outcome::too_large;
    case fetch_error::timeout: return outcome::timeout;
    case fetch_error::unsupported: return outcome::client_error;
    case fetch_error::proxy_auth: return outcome::proxy_auth;
    case fetch_error::dns: return outcome::dns_error;
    case fetch_error::tls: return outcome::tls_error;
    case fetch_error::connect:
    case fetch_error::network:
    case fetch_error::bad_encoding: return outcome::network_error;
  }
  if (r.status >= 200 && r.status < 300) return outcome::ok;
  if (r.status >= 300 && r.status < 400) return outcome::redirect;
  if (r.status == 404 || r.status == 410) return outcome::not_found;
  if (r.status >= 400 && r.status < 500) return outcome::client_error;
  if (r.status >= 500 && r.status < 600) return outcome::server_error;
  return outcome::network_error;  // 1xx as a final status or nonsense: a broken server
}

bool is_failure(outcome o) { return o != outcome::ok && o != outcome::redirect; }

std::uint64_t outcome_counts::total() const {
  std::uint64_t t = 0;
  for (auto n : n_) t += n;
  return t;
}

std::uint64_t outcome_counts::failures() const {
  std::uint64_t t = 0;
  for (std::size_t i = 0; i < n_.size(); ++i)
    if (is_failure(static_cast<outcome>(i))) t += n_[i];
  return t;
}

std::string outcome_counts::summary() const {
  std::string s;
  for (std::size_t i = 0; i < n_.size(); ++i) {
    if (n_[i] == 0) continue;
    if (!s.empty()) s += ", ";
    s += names[i];
    s += ' ';
    s += std::to_string(n_[i]);
  }
  return s.empty() ? "none" : s;
}

outcome_counts& outcome_counts::operator+=(const outcome_counts& other) {
  for (std::size_t i = 0; i < n_.size(); ++i) n_[i] += other.n_[i];
  return *this;
}

}  // namespace crawld::fetch
