module pxeforge.test/containerd-render

go 1.19
