// AclGuard: rocketrpc-broker's one door for access control (aclEnable=true). BrokerServer wraps every request
// handler it registers, broker and name-server codes alike, with wrap(); a request the account file does not
// allow is answered NO_PERMISSION (16) with a remark naming what was refused, and its handler never runs.
//
// The account file (aclFile, plain_acl.yml format, acl_config.h) is read at create() (a missing or bad file
// fails the start) and re-read by reloadIfChanged() when its inode, size or modification time changed; a bad
// file then keeps the accounts in force and logs why (never a secret). Allowed sends of RIP-16 requests are
// noted in the ReplyRegistry for the reply check (access_check.h rule 6).
// Thread-safe: wrapped handlers run on I/O threads concurrently with reloads on the broker's timer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "broker/acl/acl_config.h"
#include "broker/acl/reply_registry.h"
#include "common/log.h"
#include "common/status.h"
#include "remoting/transport.h"

namespace rocketrpc::broker::acl {

struct AclGuardOptions {
  std::string file;                       // the account file
  bool reply_check = true;                // aclReplyCheckEnable
  size_t reply_track_max_entries = 100000;  // aclReplyTrackMaxEntries
  int64_t reply_track_ttl_ms = 600000;      // aclReplyTrackTtlMillis
  std::function<int64_t()> clock;           // ms; system clock when empty
  std::function<void()> on_denied;          // called for every refusal (the broker counts them); may be empty
};

class AclGuard : public std::enable_shared_from_this<AclGuard> {
 public:
  /// Reads the account file. InvalidArgument naming the file and the problem when it cannot be used.
  static Result<std::shared_ptr<AclGuard>> create(AclGuardOptions options);

  /// The handler that checks, then runs `inner` (or answers NO_PERMISSION).
  remoting::RequestHandler wrap(remoting::RequestHandler inner);
  /// Re-reads the file when it changed. Returns true when new accounts were loaded.
  bool reloadIfChanged();

  /// The accounts in force.
  std::shared_ptr<const AclConfig> config() const;
  ReplyRegistry& replies() { return replies_; }

 private:
  struct FileStamp {
    uint64_t inode = 0;
    int64_t size = -1;
    int64_t mtime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };
  explicit AclGuard(AclGuardOptions options);
  Result<FileStamp> stamp() const;
  Status load(const FileStamp& stamp);

  const AclGuardOptions options_;
  ReplyRegistry replies_;
  mutable std::mutex mu_;
  std::shared_ptr<const AclConfig> config_;  // guarded by mu_
  FileStamp loaded_;                         // guarded by reload_mu_
  std::mutex reload_mu_;                     // one reload at a time
  log::RateLimiter denied_log_{std::chrono::milliseconds(1000)};
};

}  // namespace rocketrpc::broker::acl
