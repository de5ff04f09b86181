#include "storage/warc_export.hpp"

#include <algorithm>
#include <cctype>

#include "base/request.hpp"

namespace crawld::storage {

namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 410: return "Gone";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

bool is_framing_header(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name == "content-encoding" || name == "transfer-encoding" || name == "content-length";
}

}  // namespace

std::string rebuilt_http_response(const page_record& p) {
  if (p.status <= 0) return {};
  std::string s = "HTTP/1.1 " + std::to_string(p.status);
  if (const char* reason = reason_phrase(p.status); *reason) s += std::string(" ") + reason;
  s += "\r\n";
  for (const auto& [k, v] : p.headers) {
    if (is_framing_header(k) || k.find_first_of("\r\n:") != std::string::npos ||
        v.find_first_of("\r\n") != std::string::npos)
      continue;
    s += k + ": " + v + "\r\n";
  }
  s += "Content-Length: " + std::to_string(p.body.size()) + "\r\n\r\n";
  s += p.body;
  return s;
}

std::string rebuilt_http_request(const page_record& p) {
  if (p.request.empty()) return {};
  auto rq = decode_request(p.request);
  if (!rq) return {};
  // scheme://authority/path?query -> authority and target
  const auto scheme_end = p.url.find("://");
  if (scheme_end == std::string::npos) return {};
  const auto path_start = p.url.find('/', scheme_end + 3);
  const std::string authority = p.url.substr(scheme_end + 3, path_start == std::string::npos ? std::string::npos
                                                                                           : path_start - scheme_end - 3);
  const std::string target = path_start == std::string::npos ? "/" : p.url.substr(path_start);
  std::string s = rq->method + " " + target + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  for (const auto& [k, v] : rq->headers) s += k + ": " + v + "\r\n";
  if (!rq->content_type.empty()) s += "Content-Type: " + rq->content_type + "\r\n";
  if (!rq->body.empty() || rq->method == "POST" || rq->method == "PUT" || rq->method == "PATCH")
    s += "Content-Length: " + std::to_string(rq->body.size()) + "\r\n";
  return s + "\r\n" + rq->body;
}

result<warc_export_result> export_warc(const store& st, const std::string& prefix,
                                       warc_writer_options opts) {
  auto w = warc_writer::open(prefix, std::move(opts));
  if (!w) return w.err();
  warc_export_result out;
  std::string failure;
  auto walked = st.for_each_page([&](const page_record& p) {
    if (p.status <= 0) {
      ++out.skipped;
      return true;
    }
    warc_fields extra = {{"WARC-Warning",
                          "rebuilt from a crawld store: decoded body, framing headers rewritten; "
                          "not the response as received"}};
    if (p.truncated)
      extra.emplace_back("WARC-Truncated", "length");
    else if (p.body.empty() && p.wire_bytes > 0)
      extra.emplace_back("WARC-Truncated", "unspecified");
    std::string request_id;
    if (auto req = rebuilt_http_request(p); !req.empty()) {
      auto rid = (*w)->write_request(p.url, p.fetched_at_ms, req);
      if (!rid) {
        failure = rid.message();
        return false;
      }
      request_id = *rid;
    }
    auto id = (*w)->write_response(p.url, p.fetched_at_ms, rebuilt_http_response(p), request_id, extra);
    if (!id) {
      failure = id.message();
      return false;
    }
    ++out.records;
    return true;
  });
  auto synced = (*w)->sync();
  auto closed = (*w)->close();
  if (closed && !synced) closed = synced;
  out.files = (*w)->paths();
  if (!failure.empty()) return make_error(failure);
  if (!walked) return walked.err();
  if (!closed) return closed.err();
  return out;
}

}  // namespace crawld::storage
