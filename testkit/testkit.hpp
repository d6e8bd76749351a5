#pragma once
// The whole test kit (keyreq_testkit); each header holds one concept.
#include "testkit/background_process.hpp"
#include "testkit/dataset_file.hpp"
#include "testkit/files.hpp"
#include "testkit/log_text.hpp"
#include "testkit/paths.hpp"
#include "testkit/processes.hpp"
#include "testkit/provider_daemon.hpp"
#include "testkit/temp_dir.hpp"
#include "testkit/unix_sockets.hpp"
#include "testkit/unix_test_server.hpp"
