extension OptimizersConfig {
    var targetSegmentCount: Int {
        defaultSegmentNumber > 0 ? defaultSegmentNumber : MergePlanner.automaticTargetSegmentCount
    }

    var maxSegmentBytes: Int { (maxSegmentSizeKB ?? MergePlanner.automaticMaxSegmentSizeKB) * 1024 }
}
