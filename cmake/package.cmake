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
