#include "store/directory_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string_view>

namespace rocketrpc::store {

namespace {

// The pid the holder wrote, or "" when the file does not hold one (yet).
std::string readHolderPid(int fd) {
  char buf[32];
  const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return {};
  std::string_view text(buf, static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) return {};
  return std::string(text);
}

}  // namespace

Result<std::unique_ptr<DirectoryLock>> DirectoryLock::acquire(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return statusFromErrno(ec.value(), "create store directory " + dir);
  const std::string path = (std::filesystem::path(dir) / "lock").string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return statusFromErrno(errno, "open " + path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err != EWOULDBLOCK) {
      ::close(fd);
      return statusFromErrno(err, "lock " + path);
    }
    const std::string pid = readHolderPid(fd);
    ::close(fd);
    return Status::overLimit("store directory " + dir + " is in use by another rocketrpc-broker" +
                             (pid.empty() ? std::string(" (pid unknown)") : " (pid " + pid + ")") +
                             "; two brokers must not share a store");
  }
  // Ours now: record who holds it. A failure here is not fatal (the lock is what protects the store).
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] ssize_t n = ::pwrite(fd, pid.data(), pid.size(), 0);
  }
  return std::unique_ptr<DirectoryLock>(new DirectoryLock(path, fd));
}

DirectoryLock::~DirectoryLock() {
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
}

}  // namespace rocketrpc::store
