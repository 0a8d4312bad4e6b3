# The installable library: librocketrpc.so (SONAME, only ROCKETRPC_API symbols exported) and librocketrpc.a (PIC,
# the four public modules in one archive), the headers, the two commands, a CMake package (rocketrpc::rocketrpc,
# rocketrpc::rocketrpc_static) and rocketrpc.pc. Debian packages: cpack -G DEB (packaging/).
include(CMakePackageConfigHelpers)

set(ROCKETRPC_PUBLIC_MODULES rocketrpc_common rocketrpc_remoting rocketrpc_client rocketrpc_rpc)
# 0.x releases may change the ABI with every minor version.
set(ROCKETRPC_SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})

# --- librocketrpc.so and librocketrpc.a: the objects the module archives are made of (compiled once, PIC).
set(_objects)
foreach(_m ${ROCKETRPC_PUBLIC_MODULES})
  list(APPEND _objects $<TARGET_OBJECTS:${_m}>)
endforeach()
set(_deps fmt::fmt yaml-cpp ZLIB::ZLIB OpenSSL::SSL OpenSSL::Crypto Threads::Threads)

add_library(rocketrpc_shared SHARED ${_objects})
target_link_libraries(rocketrpc_shared PRIVATE ${_deps})
set_target_properties(rocketrpc_shared PROPERTIES
  OUTPUT_NAME rocketrpc
  VERSION ${PROJECT_VERSION}
  SOVERSION ${ROCKETRPC_SOVERSION}
  LINKER_LANGUAGE CXX)
# Unresolved symbols fail the link here rather than in a user's program; symbols of static dependencies stay
# private to the library.
target_link_options(rocketrpc_shared PRIVATE -Wl,--no-undefined -Wl,--exclude-libs,ALL
                    -Wl,--version-script=${PROJECT_SOURCE_DIR}/cmake/rocketrpc.map)
set_property(TARGET rocketrpc_shared APPEND PROPERTY LINK_DEPENDS ${PROJECT_SOURCE_DIR}/cmake/rocketrpc.map)

add_library(rocketrpc_static STATIC ${_objects})
set_target_properties(rocketrpc_static PROPERTIES OUTPUT_NAME rocketrpc LINKER_LANGUAGE CXX)

# --- install
install(TARGETS rocketrpc_shared
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev)
install(TARGETS rocketrpc_static ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/rocketrpc DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
  FILES_MATCHING PATTERN "*.h")
if(TARGET rocketrpc_cli)
  install(TARGETS rocketrpc_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
endif()
if(TARGET rocketrpc_broker_bin)
  install(TARGETS rocketrpc_broker_bin RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT broker)
endif()

set(ROCKETRPC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/rocketrpc)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/rocketrpcConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/rocketrpcConfig.cmake
  INSTALL_DESTINATION ${ROCKETRPC_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/rocketrpcConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
file(RELATIVE_PATH ROCKETRPC_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(${PROJECT_SOURCE_DIR}/cmake/rocketrpc.pc.in ${CMAKE_CURRENT_BINARY_DIR}/rocketrpc.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/rocketrpcConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/rocketrpcConfigVersion.cmake
  DESTINATION ${ROCKETRPC_CMAKE_DIR} COMPONENT dev)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/rocketrpc.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# --- Debian packages: cpack -G DEB in a build configured with -DCMAKE_INSTALL_PREFIX=/usr -DROCKETRPC_DEB_LAYOUT=ON
# (the broker's /etc and systemd files have absolute destinations, so plain `cmake --install --prefix` builds
# leave them out). librocketrpc, librocketrpc-dev, rocketrpc-tools, rocketrpc-broker.
option(ROCKETRPC_DEB_LAYOUT "Install the broker's configuration and systemd unit (for cpack -G DEB)" OFF)
if(ROCKETRPC_DEB_LAYOUT)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/broker.conf DESTINATION /etc/rocketrpc COMPONENT broker)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/rocketrpc-broker.service DESTINATION lib/systemd/system
          COMPONENT broker)
  install(FILES ${PROJECT_SOURCE_DIR}/docs/design/broker.md ${PROJECT_SOURCE_DIR}/docs/design/security.md
          DESTINATION ${CMAKE_INSTALL_DOCDIR}/../rocketrpc-broker COMPONENT broker)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME rocketrpc)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "rocketrpc")
set(CPACK_PACKAGE_CONTACT "rocketrpc maintainers <maintainers@rocketrpc.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "RPC over Apache RocketMQ in C++")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev tools broker)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME librocketrpc)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "rocketrpc shared library (librocketrpc.so.${ROCKETRPC_SOVERSION})")
set(CPACK_DEBIAN_DEV_PACKAGE_NAME librocketrpc-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "librocketrpc (= ${PROJECT_VERSION}), libyaml-cpp-dev, libfmt-dev, zlib1g-dev, libssl-dev")
set(CPACK_COMPONENT_DEV_DESCRIPTION "rocketrpc headers, static library, CMake package and pkg-config file")
set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME rocketrpc-tools)
set(CPACK_COMPONENT_TOOLS_DESCRIPTION "rocketrpc command line: call, serve, request, respond")
set(CPACK_DEBIAN_BROKER_PACKAGE_NAME rocketrpc-broker)
set(CPACK_COMPONENT_BROKER_DESCRIPTION
    "rocketrpc-broker: RocketMQ-compatible name server and broker (systemd unit, store in /var/lib/rocketrpc)")
# dpkg keeps an administrator's edits of the configuration across upgrades.
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/packaging/broker/conffiles "/etc/rocketrpc/broker.conf\n")
set(CPACK_DEBIAN_BROKER_PACKAGE_CONTROL_EXTRA ${CMAKE_CURRENT_BINARY_DIR}/packaging/broker/conffiles)
include(CPack)
