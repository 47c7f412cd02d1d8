// Package voxrun is the module root of the voxrun call-control runtime. It holds
// no code: only the house-keeping tests that keep the tree as DESIGN.md draws
// it (every package documented, imports only along the drawn arrows). The
// binary is cmd/voxrun.
package voxrun
