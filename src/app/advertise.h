// The cluster address peers should dial to reach this node.
#pragma once

#include <string>

#include "config/config.h"

namespace meshmq::app {

// --cluster-advertise when set; else the listen host when it is a specific address; else this
// host's first non-loopback address (the pod IP in Kubernetes), never "localhost" or 0.0.0.0
// when the node can be reached by something better.
std::string ClusterAdvertiseAddress(const config::Config& config);

// "host:port" where peers reach this node's HTTP admin API (announced in the cluster hello):
// the HTTP listen address when it names a host, else the cluster advertise host with the HTTP
// port. Empty when HTTP is off or bound to port 0 (unknown until it starts).
std::string HttpAdvertiseAddress(const config::Config& config);

}  // namespace meshmq::app
