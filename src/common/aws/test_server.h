// Test helpers: a server process on 127.0.0.1 started for a test and stopped
// by its PID (never by name), the one moto server of a test binary, and a
// fixture for the tests that run against it (the one source of the moto
// set-up for the S3, DynamoDB, SQS and worker tests).
//
//   class QueueTest : public aws::testing::MotoTest {
//     void SetUpMoto(const std::string& url) override {
//       sqs_ = std::make_unique<SqsClient>(MotoOptions<SqsOptions>(url, 2));
//     }
//   };
//
// Header-only, for tests. Not thread-safe.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/aws/credentials.h"
#include "common/aws/http_client.h"
#include "common/clock.h"

extern char** environ;

namespace aquasense::aws::testing {

// A free TCP port on 127.0.0.1 (bound and released: a small race remains).
inline int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

inline bool PortOpen(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

class ServerProcess {
 public:
  // `argv` is run with a free port appended as its last argument.
  explicit ServerProcess(std::vector<std::string> argv) : argv_(std::move(argv)) {}
  ~ServerProcess() { Stop(); }

  // Starts the server and waits (up to `wait_s`) until its port accepts.
  bool Start(int wait_s = 30) {
    port_ = FreePort();
    std::vector<std::string> args = argv_;
    args.push_back(std::to_string(port_));
    std::vector<char*> cargv;
    for (auto& a : args) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    const int rc = posix_spawnp(&pid_, cargv[0], &fa, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      pid_ = -1;
      error_ = "cannot run " + argv_[0];
      return false;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_s);
    while (std::chrono::steady_clock::now() < deadline) {
      if (PortOpen(port_)) return true;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        error_ = argv_[0] + " exited before listening (is the module installed?)";
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    Stop();
    error_ = argv_[0] + " did not listen within " + std::to_string(wait_s) + " s";
    return false;
  }

  // SIGTERM to our child by PID, then SIGKILL after 5 s; reaped.
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 50; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& error() const { return error_; }

 private:
  std::vector<std::string> argv_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string error_;
};

// moto's server (python3 on PATH must have moto).
inline std::vector<std::string> MotoCommand() {
  return {"python3", "-m", "moto.server", "-H", "127.0.0.1", "-p"};
}

// The one moto server of a test binary, started on first use and stopped
// (by its PID) at exit; nullptr with `error` set when it cannot start.
inline ServerProcess* SharedMoto(std::string* error) {
  static ServerProcess server(MotoCommand());
  static const bool started = server.Start(60);
  if (!started) *error = "moto did not start (python3 -m moto.server): " + server.error();
  return started ? &server : nullptr;
}

// The signing clock of the moto tests.
inline const Clock* MotoClock() {
  static const SystemClock clock;
  return &clock;
}

// Client options for moto (S3Options, DynamoOptions, SqsOptions): its
// endpoint, us-east-1, the "testing" keys, a new HTTP client, MotoClock()
// and `max_attempts` attempts per call.
template <class Options>
Options MotoOptions(const std::string& url, int max_attempts) {
  Options o;
  o.endpoint = url;
  o.region = "us-east-1";
  o.credentials = NewStaticCredentials({"testing", "testing", "", 0});
  o.http = std::make_shared<HttpClient>();
  o.clock = MotoClock();
  o.retry.max_attempts = max_attempts;
  return o;
}

// "<prefix>-<pid>-<n>": a bucket, table or queue name no other test of this
// process, nor another test binary running beside it, uses.
inline std::string UniqueName(std::string_view prefix) {
  static std::atomic<int> n{0};
  return std::string(prefix) + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

// A fixture for tests against SharedMoto(): skipped, saying why, when moto
// cannot start; otherwise SetUpMoto runs with moto's URL (its fatal
// failures fail the test as they would in SetUp).
class MotoTest : public ::testing::Test {
 protected:
  void SetUp() final {
    std::string error;
    const ServerProcess* moto = SharedMoto(&error);
    if (moto == nullptr) GTEST_SKIP() << error;
    SetUpMoto(moto->url());
  }
  virtual void SetUpMoto(const std::string& url) = 0;
};

}  // namespace aquasense::aws::testing
