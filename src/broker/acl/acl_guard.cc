#include "broker/acl/acl_guard.h"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "broker/acl/access_check.h"
#include "remoting/protocol/codes.h"

namespace rocketrpc::broker::acl {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

AclGuard::AclGuard(AclGuardOptions options)
    : options_(std::move(options)), replies_(options_.reply_track_max_entries, options_.reply_track_ttl_ms) {}

Result<std::shared_ptr<AclGuard>> AclGuard::create(AclGuardOptions options) {
  if (!options.clock) {
    options.clock = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  std::shared_ptr<AclGuard> guard(new AclGuard(std::move(options)));
  auto st = guard->stamp();
  if (!st.isOk()) return st.status();
  std::lock_guard<std::mutex> lock(guard->reload_mu_);
  if (Status s = guard->load(*st); !s.isOk()) return s;
  auto config = guard->config();
  RRPC_LOG(kInfo, "broker", "ACL on: {} account(s), {} globally white-listed address pattern(s) from {}",
           config->accounts.size(), config->global_white_remote_addresses.size(), guard->options_.file);
  return guard;
}

Result<AclGuard::FileStamp> AclGuard::stamp() const {
  struct stat sb {};
  if (::stat(options_.file.c_str(), &sb) != 0) {
    return Status::invalidArgument("aclFile " + options_.file + ": cannot stat: " + std::strerror(errno));
  }
  FileStamp s;
  s.inode = static_cast<uint64_t>(sb.st_ino);
  s.size = static_cast<int64_t>(sb.st_size);
  s.mtime_ns = static_cast<int64_t>(sb.st_mtim.tv_sec) * 1000000000LL + sb.st_mtim.tv_nsec;
  return s;
}

Status AclGuard::load(const FileStamp& st) {
  // Noted before reading: a bad file is reported once, not on every timer tick, until it changes again.
  loaded_ = st;
  std::ifstream in(options_.file, std::ios::binary);
  if (!in) return Status::invalidArgument("aclFile " + options_.file + ": cannot open");
  std::string text;
  text.resize(kMaxAclFileBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  auto parsed = parseAclConfig(text);
  if (!parsed.isOk()) return parsed.status().withContext("aclFile " + options_.file);
  auto config = std::make_shared<const AclConfig>(std::move(*parsed));
  std::lock_guard<std::mutex> lock(mu_);
  config_ = std::move(config);
  return Status::ok();
}

bool AclGuard::reloadIfChanged() {
  std::lock_guard<std::mutex> lock(reload_mu_);
  auto st = stamp();
  if (!st.isOk()) {
    if (loaded_.size != -1) {
      loaded_ = FileStamp{};
      RRPC_LOG(kError, "broker", "{}; keeping the {} account(s) in force", st.status().message(),
               config()->accounts.size());
    }
    return false;
  }
  if (*st == loaded_) return false;
  if (Status s = load(*st); !s.isOk()) {
    RRPC_LOG(kError, "broker", "ACL reload refused: {}; keeping the {} account(s) in force", s.toString(),
             config()->accounts.size());
    return false;
  }
  RRPC_LOG(kInfo, "broker", "ACL reloaded from {}: {} account(s)", options_.file, config()->accounts.size());
  return true;
}

std::shared_ptr<const AclConfig> AclGuard::config() const {
  std::lock_guard<std::mutex> lock(mu_);
  return config_;
}

remoting::RequestHandler AclGuard::wrap(remoting::RequestHandler inner) {
  return [self = shared_from_this(), inner = std::move(inner)](RemotingCommand request,
                                                               remoting::Responder responder) {
    const int64_t now = self->options_.clock();
    auto config = self->config();
    std::string_view host = hostOf(responder.remoteAddress());
    Verdict verdict = checkAccess(*config, request, host, self->options_.reply_check ? &self->replies_ : nullptr, now);
    if (!verdict.allowed) {
      if (self->options_.on_denied) self->options_.on_denied();
      RRPC_LOG_LIMITED(self->denied_log_, kWarn, "broker", "refused code {} from {}: {}", request.code,
                       responder.remoteAddress(), verdict.reason);
      responder.respond(RemotingCommand::responseTo(request, resp::kNoPermission, std::move(verdict.reason)));
      return;
    }
    if (self->options_.reply_check) {
      if (auto tracked = trackedRequestOf(request)) {
        self->replies_.noteRequest(tracked->correlation_id, tracked->topic, tracked->reply_to_client, now);
      }
    }
    inner(std::move(request), std::move(responder));
  };
}

}  // namespace rocketrpc::broker::acl
