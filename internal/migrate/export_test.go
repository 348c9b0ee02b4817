package migrate

// SetStep installs the hook Run calls after every committed batch of
// rows and every copied file; its error stops Run there, as a crash
// would (tests).
func SetStep(o *Options, step func() error) { o.step = step }
