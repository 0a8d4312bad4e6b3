#include "store/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace rocketrpc::store {

namespace {

class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFile() override { ::close(fd_); }

  Status write(int64_t offset, std::string_view data) override {
    while (!data.empty()) {
      const ssize_t n = ::pwrite(fd_, data.data(), data.size(), offset);
      if (n < 0) {
        if (errno == EINTR) continue;
        return fsErrorStatus(errno, "pwrite " + path_);
      }
      data.remove_prefix(static_cast<size_t>(n));
      offset += n;
    }
    return Status::ok();
  }

  Status read(int64_t offset, size_t n, std::string* out) const override {
    out->resize(n);
    size_t done = 0;
    while (done < n) {
      const ssize_t r = ::pread(fd_, out->data() + done, n - done, offset + static_cast<int64_t>(done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return fsErrorStatus(errno, "pread " + path_);
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    out->resize(done);
    return Status::ok();
  }

  Status sync() override {
    if (::fdatasync(fd_) != 0) return fsErrorStatus(errno, "fdatasync " + path_);
    return Status::ok();
  }

  Status truncate(int64_t size) override {
    if (::ftruncate(fd_, size) != 0) return fsErrorStatus(errno, "ftruncate " + path_);
    return Status::ok();
  }

  Result<int64_t> size() const override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return fsErrorStatus(errno, "fstat " + path_);
    return static_cast<int64_t>(st.st_size);
  }

 private:
  const int fd_;
  const std::string path_;
};

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> open(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return fsErrorStatus(errno, "open " + path);
    return std::unique_ptr<File>(std::make_unique<PosixFile>(fd, path));
  }

  Result<std::unique_ptr<File>> openExisting(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return Status::notFound(path + " does not exist");
      return fsErrorStatus(errno, "open " + path);
    }
    return std::unique_ptr<File>(std::make_unique<PosixFile>(fd, path));
  }

  bool exists(const std::string& path) override {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
  }

  Result<std::vector<std::string>> list(const std::string& dir) override {
    std::vector<std::string> names;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      if (errno == ENOENT) return names;
      return fsErrorStatus(errno, "opendir " + dir);
    }
    while (const dirent* e = ::readdir(d)) {
      const std::string_view name(e->d_name);
      if (name != "." && name != "..") names.emplace_back(name);
    }
    ::closedir(d);
    return names;
  }

  Status createDirs(const std::string& dir) override {
    for (size_t pos = 1; pos <= dir.size(); ++pos) {
      if (pos != dir.size() && dir[pos] != '/') continue;
      const std::string prefix = dir.substr(0, pos);
      if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST)
        return fsErrorStatus(errno, "mkdir " + prefix);
    }
    return Status::ok();
  }

  Status remove(const std::string& path) override {
    if (::remove(path.c_str()) != 0 && errno != ENOENT) return fsErrorStatus(errno, "remove " + path);
    return Status::ok();
  }

  Status rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return fsErrorStatus(errno, "rename " + from);
    return Status::ok();
  }

  Status syncDir(const std::string& dir) override {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return fsErrorStatus(errno, "open dir " + dir);
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return fsErrorStatus(err, "fsync dir " + dir);
    return Status::ok();
  }

  Result<int64_t> modifiedTimeMs(const std::string& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return fsErrorStatus(errno, "stat " + path);
    return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  }

  Result<double> usedRatio(const std::string& path) override {
    struct statvfs st {};
    if (::statvfs(path.c_str(), &st) != 0) return fsErrorStatus(errno, "statvfs " + path);
    // As df's Use%: blocks reserved for root count neither as used nor as available (1 - bavail/blocks would
    // call a disk with large reserves nearly full while writes still have room).
    const double used = static_cast<double>(st.f_blocks - st.f_bfree);
    const double usable = used + static_cast<double>(st.f_bavail);
    if (usable <= 0) return 0.0;
    return used / usable;
  }
};

std::string parentDir(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Status fsErrorStatus(int err, std::string_view context) {
  if (err == EMFILE || err == ENFILE || err == ENOSPC || err == EDQUOT) {
    std::string m(context);
    m += ": ";
    m += std::strerror(err);
    return Status(StatusCode::kOverLimit, std::move(m), err);
  }
  return statusFromErrno(err, context);
}

std::shared_ptr<FileSystem> posixFileSystem() {
  static const auto fs = std::make_shared<PosixFileSystem>();
  return fs;
}

Status writeFileAtomically(FileSystem& fs, const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  {
    auto file = fs.open(tmp);
    if (!file) return file.status();
    Status s = (*file)->truncate(0);
    if (s) s = (*file)->write(0, data);
    if (s) s = (*file)->sync();
    if (!s) return s;
  }
  if (Status s = fs.rename(tmp, path); !s) return s;
  return fs.syncDir(parentDir(path));
}

Result<std::string> readWholeFile(FileSystem& fs, const std::string& path) {
  if (!fs.exists(path)) return Status::notFound(path + " does not exist");
  auto file = fs.open(path);
  if (!file) return file.status();
  auto size = (*file)->size();
  if (!size) return size.status();
  std::string data;
  if (Status s = (*file)->read(0, static_cast<size_t>(*size), &data); !s) return s;
  return data;
}

std::string offsetFileName(int64_t offset) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020lld", static_cast<long long>(offset));
  return buf;
}

std::optional<int64_t> parseOffsetFileName(std::string_view name) {
  if (name.size() != 20) return std::nullopt;
  int64_t v = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return std::nullopt;
    if (v > (INT64_MAX - (c - '0')) / 10) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string joinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && out.back() != '/') out.push_back('/');
  out += name;
  return out;
}

}  // namespace rocketrpc::store
