#include "conf/daemon_config.hpp"

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>

#include <arpa/inet.h>

#include <toml++/toml.h>

#include "conf/json.hpp"
#include "conf/suggest.hpp"

namespace crawld::conf {

namespace {

const std::vector<std::string_view>& known_keys() {
  static const std::vector<std::string_view> k = {"listen",    "port",       "state_dir",       "log_file",
                                                  "token_file", "token_env", "max_connections", "max_body_kib",
                                                  "max_jobs", "cluster_secret_file"};
  return k;
}

}  // namespace

bool is_loopback(std::string_view address) {
  std::string a(address);
  in_addr v4{};
  if (inet_pton(AF_INET, a.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, a.c_str(), &v6) == 1)
    return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

daemon_config_load load_daemon_config_string(std::string_view text, const std::string& name) {
  daemon_config_load out;
  auto& c = out.config;
  auto add = [&](const toml::source_region& at, std::string msg) {
    out.errors.push_back({name, static_cast<int>(at.begin.line), static_cast<int>(at.begin.column), std::move(msg)});
  };
  try {
    toml::table doc;
    try {
      doc = toml::parse(text, name);
    } catch (const toml::parse_error& e) {
      add(e.source(), std::string(e.description()));
      return out;
    }
    auto str = [&](std::string_view key, const toml::node& n, std::string& field) {
      if (auto s = n.as_string())
        field = s->get();
      else
        add(n.source(), "'" + std::string(key) + "' must be a string");
    };
    auto integer = [&](std::string_view key, const toml::node& n, std::int64_t lo, std::int64_t hi) -> std::optional<std::int64_t> {
      auto v = n.as_integer();
      if (!v) {
        add(n.source(), "'" + std::string(key) + "' must be an integer");
        return std::nullopt;
      }
      if (v->get() < lo || v->get() > hi) {
        add(n.source(), "'" + std::string(key) + "' must be between " + std::to_string(lo) + " and " +
                            std::to_string(hi) + ", got " + std::to_string(v->get()));
        return std::nullopt;
      }
      return v->get();
    };
    for (const auto& [k, v] : doc) {
      auto key = k.str();
      if (key == "listen") {
        str(key, v, c.listen);
        in_addr a4{};
        in6_addr a6{};
        if (v.is_string() && inet_pton(AF_INET, c.listen.c_str(), &a4) != 1 &&
            inet_pton(AF_INET6, c.listen.c_str(), &a6) != 1)
          add(v.source(), "'listen' must be an IP address, got '" + c.listen + "'");
      } else if (key == "port") {
        if (auto p = integer(key, v, 1, 65535))
          c.port = static_cast<int>(*p);
      } else if (key == "state_dir") {
        str(key, v, c.state_dir);
        if (v.is_string() && c.state_dir.empty())
          add(v.source(), "'state_dir' must not be empty");
      } else if (key == "log_file") {
        str(key, v, c.log_file);
      } else if (key == "token_file") {
        str(key, v, c.token_file);
      } else if (key == "token_env") {
        str(key, v, c.token_env);
      } else if (key == "max_connections") {
        if (auto p = integer(key, v, 1, 100000))
          c.max_connections = static_cast<int>(*p);
      } else if (key == "max_body_kib") {
        if (auto p = integer(key, v, 1, 1 << 20))
          c.max_body_bytes = static_cast<std::size_t>(*p) * 1024;
      } else if (key == "cluster_secret_file") {
        str(key, v, c.cluster_secret_file);
      } else if (key == "max_jobs") {
        if (auto p = integer(key, v, 1, 100000))
          c.max_jobs = static_cast<int>(*p);
      } else {
        std::string msg = "unknown key '" + std::string(key) + "'";
        auto best = nearest(key, known_keys());
        if (!best.empty())
          msg += "; did you mean '" + best + "'?";
        add(k.source(), msg);
      }
    }
  } catch (const std::exception& e) {
    out.errors.push_back({name, 0, 0, std::string("internal error: ") + e.what()});
  }
  std::stable_sort(out.errors.begin(), out.errors.end(), [](const job_error& a, const job_error& b) {
    return std::make_pair(a.line, a.column) < std::make_pair(b.line, b.column);
  });
  return out;
}

daemon_config_load load_daemon_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    daemon_config_load out;
    out.errors.push_back({path, 0, 0, "cannot read config file"});
    return out;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return load_daemon_config_string(buf.str(), path);
}

namespace {

result<void> to_toml(const json& j, const std::string& where, toml::table& parent, const std::string& key);

result<void> to_toml_array(const json& j, const std::string& where, toml::array& out) {
  for (const auto& e : j.items) {
    switch (e.type) {
      case json::kind::null: return make_error(where + ": null is not allowed");
      case json::kind::boolean: out.push_back(e.b); break;
      case json::kind::number:
        if (e.is_int)
          out.push_back(e.i);
        else
          out.push_back(e.num);
        break;
      case json::kind::string: out.push_back(e.str); break;
      case json::kind::array: {
        toml::array a;
        if (auto r = to_toml_array(e, where, a); !r)
          return r;
        out.push_back(std::move(a));
        break;
      }
      case json::kind::object: {
        toml::table t;
        for (const auto& [k, v] : e.members)
          if (auto r = to_toml(v, where + "." + k, t, k); !r)
            return r;
        out.push_back(std::move(t));
        break;
      }
    }
  }
  return {};
}

result<void> to_toml(const json& j, const std::string& where, toml::table& parent, const std::string& key) {
  switch (j.type) {
    case json::kind::null: return make_error("'" + where + "': null is not allowed");
    case json::kind::boolean: parent.insert_or_assign(key, j.b); break;
    case json::kind::number:
      if (j.is_int)
        parent.insert_or_assign(key, j.i);
      else
        parent.insert_or_assign(key, j.num);
      break;
    case json::kind::string: parent.insert_or_assign(key, j.str); break;
    case json::kind::array: {
      toml::array a;
      if (auto r = to_toml_array(j, "'" + where + "'", a); !r)
        return r;
      parent.insert_or_assign(key, std::move(a));
      break;
    }
    case json::kind::object: {
      toml::table t;
      for (const auto& [k, v] : j.members)
        if (auto r = to_toml(v, where + "." + k, t, k); !r)
          return r;
      parent.insert_or_assign(key, std::move(t));
      break;
    }
  }
  return {};
}

}  // namespace

result<std::string> job_toml_from_json(std::string_view json_text) {
  auto j = parse_json(json_text);
  if (!j)
    return make_error("bad JSON: " + j.message());
  if (j->type != json::kind::object)
    return make_error("a job must be a JSON object");
  try {
    toml::table doc;
    for (const auto& [k, v] : j->members)
      if (auto r = to_toml(v, k, doc, k); !r)
        return r.err();
    std::ostringstream os;
    os << doc;
    return os.str();
  } catch (const std::exception& e) {
    return make_error(std::string("cannot convert the job: ") + e.what());
  }
}

}  // namespace crawld::conf
