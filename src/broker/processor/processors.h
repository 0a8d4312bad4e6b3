// Broker request handlers, one file per request family; broker_server.cc holds the code -> handler table.
// Handlers are called on an I/O thread. The request-reply path (send, reply, pull, offsets) runs there:
// it never blocks (stores complete asynchronously and answer from the store's callback; in ASYNC_FLUSH the
// store writes on the calling thread, in SYNC_FLUSH its appender thread fsyncs). Work that may block
// (topic creation writes topics.json, heartbeats, admin codes) goes to the worker pool (BrokerContext::post).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "broker/broker_context.h"
#include "remoting/transport.h"

namespace rocketrpc::broker {

using HandlerFactory = remoting::RequestHandler (*)(std::shared_ptr<BrokerContext>);

remoting::RequestHandler makeSendMessageHandler(std::shared_ptr<BrokerContext> ctx);        // 10, 310, 320
remoting::RequestHandler makeReplyMessageHandler(std::shared_ptr<BrokerContext> ctx);       // 324, 325
remoting::RequestHandler makePullMessageHandler(std::shared_ptr<BrokerContext> ctx);        // 11, 361
remoting::RequestHandler makeQueryConsumerOffsetHandler(std::shared_ptr<BrokerContext> ctx);   // 14
remoting::RequestHandler makeUpdateConsumerOffsetHandler(std::shared_ptr<BrokerContext> ctx);  // 15
remoting::RequestHandler makeGetMaxOffsetHandler(std::shared_ptr<BrokerContext> ctx);          // 30
remoting::RequestHandler makeGetMinOffsetHandler(std::shared_ptr<BrokerContext> ctx);          // 31
remoting::RequestHandler makeSearchOffsetHandler(std::shared_ptr<BrokerContext> ctx);          // 29
remoting::RequestHandler makeEarliestMsgStoreTimeHandler(std::shared_ptr<BrokerContext> ctx);  // 32
remoting::RequestHandler makeViewMessageByIdHandler(std::shared_ptr<BrokerContext> ctx);       // 33
remoting::RequestHandler makeHeartbeatHandler(std::shared_ptr<BrokerContext> ctx);             // 34
remoting::RequestHandler makeUnregisterClientHandler(std::shared_ptr<BrokerContext> ctx);      // 35
remoting::RequestHandler makeGetConsumerListHandler(std::shared_ptr<BrokerContext> ctx);       // 38
remoting::RequestHandler makeConsumerSendMsgBackHandler(std::shared_ptr<BrokerContext> ctx);   // 36
remoting::RequestHandler makeLockBatchHandler(std::shared_ptr<BrokerContext> ctx);             // 41
remoting::RequestHandler makeUnlockBatchHandler(std::shared_ptr<BrokerContext> ctx);           // 42
remoting::RequestHandler makeUpdateAndCreateTopicHandler(std::shared_ptr<BrokerContext> ctx);  // 17
remoting::RequestHandler makeGetAllTopicConfigHandler(std::shared_ptr<BrokerContext> ctx);     // 21
remoting::RequestHandler makeDeleteTopicInBrokerHandler(std::shared_ptr<BrokerContext> ctx);   // 215
remoting::RequestHandler makeGetBrokerRuntimeInfoHandler(std::shared_ptr<BrokerContext> ctx);  // 28
remoting::RequestHandler makeQueryTopicConsumeByWhoHandler(std::shared_ptr<BrokerContext> ctx);     // 300
remoting::RequestHandler makeGetConsumerConnectionListHandler(std::shared_ptr<BrokerContext> ctx);  // 203
remoting::RequestHandler makeGetConsumeStatsHandler(std::shared_ptr<BrokerContext> ctx);            // 208

remoting::RequestHandler makeUpdateAndCreateSubscriptionGroupHandler(std::shared_ptr<BrokerContext> ctx);  // 200
remoting::RequestHandler makeGetAllSubscriptionGroupConfigHandler(std::shared_ptr<BrokerContext> ctx);     // 201
remoting::RequestHandler makeDeleteSubscriptionGroupHandler(std::shared_ptr<BrokerContext> ctx);           // 207

/// GroupList body of QUERY_TOPIC_CONSUME_BY_WHO: online groups subscribed to `topic` plus groups with an
/// offset committed on it.
std::string encodeTopicConsumers(const ClientManager& clients, const store::ConsumerOffsetTable& offsets,
                                 const std::string& topic);
/// ConsumerConnection body of GET_CONSUMER_CONNECTION_LIST; nullopt when no member of `group` is online.
std::optional<std::string> encodeConsumerConnection(const ClientManager& clients, const std::string& group);

/// ConsumeStats body of GET_CONSUME_STATS for `group` on `topic` (every topic it has offsets for when empty).
std::string encodeConsumeStats(BrokerContext& ctx, const std::string& group, const std::string& topic);

/// Re-executes a woken long-poll pull without suspension (used by PullRequestHoldService).
void replayPull(const std::shared_ptr<BrokerContext>& ctx, remoting::RemotingCommand request,
                remoting::Responder responder);
/// Answers a held pull with the message that just arrived at the offset it asked for (FOUND, one message,
/// the record as stored). Used by PullRequestHoldService on the writing thread.
void answerHeldPull(const std::shared_ptr<BrokerContext>& ctx, const remoting::RemotingCommand& request,
                    const remoting::Responder& responder, const store::ArrivedMessage& msg);

/// Sends NOTIFY_CONSUMER_IDS_CHANGED (oneway) to every member of `group`.
void notifyConsumerIdsChanged(BrokerContext& ctx, const std::string& group);

}  // namespace rocketrpc::broker
