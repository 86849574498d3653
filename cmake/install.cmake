# SPDX-License-Identifier: GPL-2.0-only
# make install (cmake --install): the daemon to sbin, steerctl and the
# tools to bin, the man pages to share/man/manN, the systemd unit to
# lib/systemd/system. PREFIX and DESTDIR as usual (Makefile). Then the
# tests of what is installed: the pages render without warnings and
# document every command and directive, the unit passes
# systemd-analyze verify.
include(GNUInstallDirs)

set(STEER_UNIT_DIR "lib/systemd/system" CACHE STRING
    "Where make install puts steerd.service (under the prefix)")

install(TARGETS steerd DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS steerctl steer-replay DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES docs/man/steerd.8 docs/man/steerctl.8
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES docs/man/steer.conf.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)

# The installed unit names the installed programs ...
set(STEER_SBINDIR ${CMAKE_INSTALL_FULL_SBINDIR})
set(STEER_BINDIR ${CMAKE_INSTALL_FULL_BINDIR})
set(STEER_SYSCONFDIR ${CMAKE_INSTALL_FULL_SYSCONFDIR})
configure_file(packaging/steerd.service.in
               ${CMAKE_BINARY_DIR}/packaging/steerd.service @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/packaging/steerd.service
        DESTINATION ${STEER_UNIT_DIR})
# ... and a twin for the tests, the build tree's, which systemd-analyze
# verify can check without an install (it wants ExecStart's program).
set(STEER_SBINDIR ${CMAKE_BINARY_DIR}/bin)
set(STEER_BINDIR ${CMAKE_BINARY_DIR}/bin)
configure_file(packaging/steerd.service.in
               ${CMAKE_BINARY_DIR}/packaging/build/steerd.service @ONLY)

add_test(NAME service/man COMMAND bash ${CMAKE_SOURCE_DIR}/tests/service/test_man.sh)
add_test(NAME service/unit COMMAND bash ${CMAKE_SOURCE_DIR}/tests/service/test_unit.sh
         ${CMAKE_BINARY_DIR}/packaging/build/steerd.service)
add_test(NAME service/install COMMAND bash ${CMAKE_SOURCE_DIR}/tests/service/test_install.sh
         ${CMAKE_BINARY_DIR})
set_tests_properties(service/man service/unit service/install PROPERTIES
  LABELS service SKIP_RETURN_CODE 77 TIMEOUT 120 ENVIRONMENT "${STEER_TEST_ENV}")
