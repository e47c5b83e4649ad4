#include "app/stop_signal.h"

#include <signal.h>
#include <unistd.h>

namespace cm {

namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_stop_signal{0};
struct sigaction g_old_int {
}, g_old_term{};

extern "C" void StopAtSafePoint(int signal) {
  g_stop_signal = signal;
  g_stop = true;
  static const char kSaid[] =
      "\ncrossmove: stopping at a safe point (the message being copied is finished); press "
      "Ctrl-C again to stop at once\n";
  ssize_t ignored = ::write(STDERR_FILENO, kSaid, sizeof kSaid - 1);
  (void)ignored;
}

}  // namespace

StopSignals::StopSignals() {
  g_stop = false;
  g_stop_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = StopAtSafePoint;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, &g_old_int);
  ::sigaction(SIGTERM, &sa, &g_old_term);
}

StopSignals::~StopSignals() {
  ::sigaction(SIGINT, &g_old_int, nullptr);
  ::sigaction(SIGTERM, &g_old_term, nullptr);
}

bool StopRequested() { return g_stop; }
const std::atomic<bool>* StopFlag() { return &g_stop; }
int StopSignalNumber() { return g_stop_signal; }

}  // namespace cm
