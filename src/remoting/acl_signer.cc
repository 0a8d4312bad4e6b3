#include "remoting/acl_signer.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace rocketrpc::remoting {

std::string aclHmacSha1Base64(std::string_view data, std::string_view secret) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &mac_len) == nullptr) {
    throw std::runtime_error("HMAC-SHA1 failed");  // only on allocation failure inside OpenSSL
  }
  std::string out(4 * ((mac_len + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(mac_len));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string aclSignedContent(const RemotingCommand& cmd, bool server_side) {
  size_t size = cmd.body.size();
  for (const auto& [key, value] : cmd.ext_fields) size += value.size();
  std::string content;
  content.reserve(size);
  // ext_fields is ordered by key (std::less on bytes), which for the ASCII names RocketMQ uses is the order
  // of Java's TreeMap<String, String>.
  for (const auto& [key, value] : cmd.ext_fields) {
    if (key == kAclSignature) continue;
    if (server_side && key == kAclUnsignedQueryFlag) continue;
    content += value;
  }
  content += cmd.body;
  return content;
}

void aclSignRequest(RemotingCommand& request, const AclCredentials& credentials) {
  if (!credentials.enabled()) return;
  request.ext_fields.erase(std::string(kAclSignature));
  request.set(std::string(kAclAccessKey), credentials.access_key);
  if (!credentials.security_token.empty()) {
    request.set(std::string(kAclSecurityToken), credentials.security_token);
  }
  request.set(std::string(kAclSignature),
              aclHmacSha1Base64(aclSignedContent(request, /*server_side=*/false), credentials.secret_key));
}

bool aclSignatureMatches(const RemotingCommand& cmd, std::string_view secret) {
  const std::string* given = cmd.get(kAclSignature);
  if (given == nullptr) return false;
  const std::string expected = aclHmacSha1Base64(aclSignedContent(cmd, /*server_side=*/true), secret);
  return given->size() == expected.size() && CRYPTO_memcmp(given->data(), expected.data(), expected.size()) == 0;
}

}  // namespace rocketrpc::remoting
