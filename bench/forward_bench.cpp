// Cross-node URL forwarding throughput over CAF's own networking (caf::io middleman), on loopback:
// two actor systems in one process, one publishing a sink, the other connected with remote_actor,
// so every message is serialized and crosses a real TCP connection.
//
// Modes, side by side in one run:
//   one/async  one message per URL, fire and forget (fast, but nothing says the URL arrived)
//   one/acked  one message per URL, each acknowledged before the next (the sender keeps
//              responsibility until the receiver acknowledges: the property crawld needs)
//   batch/acked  URLs in batches, each batch acknowledged, a window of batches outstanding
//
//   forward_bench [urls=200000] [batch=256] [window=8]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

namespace {

struct fwd_url {
  std::string url;
  std::string host_key;
  std::int32_t depth = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fwd_url& x) {
  return f(caf::meta::type_name("fwd_url"), x.url, x.host_key, x.depth);
}

using ack_atom = caf::atom_constant<caf::atom("ack")>;
using sync_atom = caf::atom_constant<caf::atom("sync")>;

caf::behavior sink(caf::event_based_actor*, std::shared_ptr<std::uint64_t> count) {
  return {
    [=](fwd_url&) { ++*count; },
    [=](std::vector<fwd_url>& batch) {
      *count += batch.size();
      return caf::make_message(ack_atom::value, *count);
    },
    [=](sync_atom) { return caf::make_message(ack_atom::value, *count); },
  };
}

fwd_url make_url(std::uint64_t i) {
  auto host = "https://host-" + std::to_string(i % 5000) + ".example:443";
  return fwd_url{host + "/section/" + std::to_string(i) + "/page.html", host, 3};
}

struct config : caf::actor_system_config {
  config() {
    load<caf::io::middleman>();
    add_message_type<fwd_url>("fwd_url");
    add_message_type<std::vector<fwd_url>>("std::vector<fwd_url>");
  }
};

void report(const char* mode, std::uint64_t n, double secs, std::uint64_t got) {
  std::printf("%-14s urls=%-8llu seconds=%-8.3f urls/s=%-10.0f received=%llu\n", mode,
              static_cast<unsigned long long>(n), secs, n / secs,
              static_cast<unsigned long long>(got));
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
  std::size_t batch = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 256;
  std::size_t window = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 8;
  if (n == 0 || batch == 0 || window == 0) {
    std::fprintf(stderr, "usage: forward_bench [urls>0] [batch>0] [window>0]\n");
    return 2;
  }
  config server_cfg, client_cfg;
  caf::actor_system server{server_cfg}, client{client_cfg};
  auto count = std::make_shared<std::uint64_t>(0);
  auto s = server.spawn(sink, count);
  auto port = server.middleman().publish(s, 0, "127.0.0.1");
  if (!port) {
    std::fprintf(stderr, "publish failed: %s\n", server.render(port.error()).c_str());
    return 1;
  }
  auto remote = client.middleman().remote_actor("127.0.0.1", *port);
  if (!remote) {
    std::fprintf(stderr, "remote_actor failed: %s\n", client.render(remote.error()).c_str());
    return 1;
  }
  caf::scoped_actor self{client};
  auto sync = [&] {
    std::uint64_t got = 0;
    self->request(*remote, std::chrono::seconds(60), sync_atom::value)
      .receive([&](ack_atom, std::uint64_t c) { got = c; },
               [&](caf::error& e) { std::fprintf(stderr, "%s\n", client.render(e).c_str()); });
    return got;
  };
  using clock = std::chrono::steady_clock;
  auto secs = [](clock::time_point t0) {
    return std::chrono::duration<double>(clock::now() - t0).count();
  };
  std::printf("CAF %s remote forwarding on 127.0.0.1:%u\n", "0.17", *port);

  auto base = sync();
  auto t0 = clock::now();
  for (std::uint64_t i = 0; i < n; ++i)
    self->send(*remote, make_url(i));
  auto got = sync() - base;
  report("one/async", n, secs(t0), got);

  // One acknowledged message per URL is a round trip each: bound it so the run stays short.
  std::uint64_t n_acked = std::min<std::uint64_t>(n, 10000);
  base = sync();
  t0 = clock::now();
  for (std::uint64_t i = 0; i < n_acked; ++i)
    self->request(*remote, std::chrono::seconds(60), std::vector<fwd_url>{make_url(i)})
      .receive([](ack_atom, std::uint64_t) {}, [](caf::error&) {});
  got = sync() - base;
  report("one/acked", n_acked, secs(t0), got);

  base = sync();
  t0 = clock::now();
  std::uint64_t sent = 0, outstanding = 0;
  while (sent < n || outstanding > 0) {
    while (outstanding < window && sent < n) {
      std::vector<fwd_url> b;
      b.reserve(batch);
      for (std::size_t k = 0; k < batch && sent < n; ++k)
        b.push_back(make_url(sent++));
      self->send(*remote, std::move(b));
      ++outstanding;
    }
    self->receive([&](ack_atom, std::uint64_t) { --outstanding; },
                  caf::after(std::chrono::seconds(60)) >> [&] { outstanding = 0; sent = n; });
  }
  got = sync() - base;
  char label[32];
  std::snprintf(label, sizeof label, "batch%zu/acked", batch);
  report(label, n, secs(t0), got);
  self->send_exit(s, caf::exit_reason::user_shutdown);
  return 0;
}
