# SPDX-License-Identifier: GPL-2.0-only
# BPF programs: every bpf/<name>.bpf.c is compiled with clang -target bpf
# and turned into a libbpf skeleton <build>/bpf/<name>.skel.h, which the
# loader in src/xdp/ includes. The library depends on the skeletons and
# links libbpf.

find_program(BPF_CLANG NAMES clang REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)
pkg_check_modules(LIBBPF REQUIRED IMPORTED_TARGET libbpf)

# The asm/ headers of a fresh machine live in the multiarch folder.
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-multiarch
                OUTPUT_VARIABLE BPF_MULTIARCH OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET)
if(NOT BPF_MULTIARCH)
  set(BPF_MULTIARCH x86_64-linux-gnu)
endif()

set(BPF_OUT ${CMAKE_BINARY_DIR}/bpf)
file(MAKE_DIRECTORY ${BPF_OUT})
file(GLOB BPF_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/bpf/*.bpf.c)
file(GLOB BPF_HDR CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/bpf/*.h
     ${CMAKE_SOURCE_DIR}/include/steer/*.h)

set(BPF_SKELS)
foreach(src ${BPF_SRC})
  get_filename_component(name ${src} NAME)
  string(REGEX REPLACE "\\.bpf\\.c$" "" name ${name})
  set(obj ${BPF_OUT}/${name}.bpf.o)
  set(skel ${BPF_OUT}/${name}.skel.h)
  set(werror)
  if(STEER_WERROR)
    set(werror -Werror)
  endif()
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -O2 -g -target bpf -Wall -Wextra -Wno-unused-parameter ${werror}
            -I/usr/include/${BPF_MULTIARCH} -I${CMAKE_SOURCE_DIR}/include
            -I${CMAKE_SOURCE_DIR}/bpf -c ${src} -o ${obj}
    DEPENDS ${src} ${BPF_HDR}
    COMMENT "BPF ${name}.bpf.o" VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name}_bpf > ${skel}
    DEPENDS ${obj}
    COMMENT "BPF skeleton ${name}.skel.h")
  list(APPEND BPF_SKELS ${skel})
endforeach()
add_custom_target(steer_bpf_skels DEPENDS ${BPF_SKELS})

foreach(lib steer steer_san)
  add_dependencies(${lib} steer_bpf_skels)
  target_include_directories(${lib} PUBLIC ${BPF_OUT} ${CMAKE_SOURCE_DIR}/bpf)
  target_link_libraries(${lib} PUBLIC PkgConfig::LIBBPF)
endforeach()

# Targets that compile the library's sources themselves (the fuzz targets
# of cmake/tests.cmake, created after this file runs) need the same: run
# once the whole directory is configured.
function(steer_bpf_attach_late)
  get_property(targets DIRECTORY ${CMAKE_SOURCE_DIR} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(t ${targets})
    get_target_property(srcs ${t} SOURCES)
    if(NOT srcs OR t STREQUAL steer OR t STREQUAL steer_san)
      continue()
    endif()
    foreach(s ${srcs})
      if(s MATCHES "/src/xdp/[^/]*\\.c$")
        add_dependencies(${t} steer_bpf_skels)
        target_include_directories(${t} PRIVATE ${BPF_OUT} ${CMAKE_SOURCE_DIR}/bpf)
        target_link_libraries(${t} PkgConfig::LIBBPF)
        break()
      endif()
    endforeach()
  endforeach()
endfunction()
cmake_language(DEFER CALL steer_bpf_attach_late)
