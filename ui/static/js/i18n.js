// Texts of the UI in 简体中文 (first) and English. The API labels every
// code in Chinese (status_label, light_label, …); in Chinese those labels
// are shown as they come, in English the codes are translated here. The
// API's own messages (problem details, field errors) are Chinese only.

const zh = {
  app: '督办', appFull: '工作要点督办系统', org: '湖南省计划生育协会',
  skip: '跳到主要内容', loading: '正在加载…', langSwitch: 'English', langSwitchLabel: 'Switch to English',
  navTasks: '我的待办', navApprovals: '待我审批', navBoard: '督办看板', navNotifications: '通知', navAudit: '审计', navPlans: '计划管理',
  mainNav: '主导航', signOut: '退出登录', account: '当前用户',
  bellLabel: '通知，{n} 条未读', bellLabelNone: '通知，没有未读',
  // sign-in
  signInTitle: '登录', signInLead: '使用本单位分配的账号登录督办系统。', username: '用户名', password: '密码', signIn: '登录', signingIn: '正在登录…',
  wrongPassword: '用户名或密码错误', accountLocked: '账号已锁定', signInFailed: '登录失败', sessionExpired: '登录已过期，请重新登录。',
  signedOut: '您已退出登录。', showPassword: '显示密码',
  // common
  retry: '重试', loadMore: '加载更多', loadingMore: '正在加载…', shown: '已显示 {n} 条', allShown: '已全部显示（{n} 条）',
  empty: '暂无数据', filters: '筛选', apply: '应用', reset: '重置', all: '全部', close: '关闭', cancel: '取消', confirm: '确定',
  back: '返回', save: '保存', details: '详情', yes: '是', no: '否', optional: '选填', required: '必填',
  networkError: '网络连接失败，请检查网络后重试。', serverError: '服务器出错，请稍后重试。', forbidden: '您没有权限查看此页面。',
  notFoundPage: '页面不存在', notFoundTask: '任务不存在或不在您的查看范围内。', errorRef: '错误编号：{id}',
  formHasErrors: '请更正标出的内容后再提交。', fieldError: '{field}：{msg}',
  // lights and countdowns
  daysLeft: '剩余 {d} 天 {h} 小时', hoursLeft: '剩余 {h} 小时 {m} 分', minutesLeft: '剩余 {m} 分 {s} 秒',
  daysLate: '已逾期 {d} 天 {h} 小时', hoursLate: '已逾期 {h} 小时 {m} 分', minutesLate: '已逾期 {m} 分 {s} 秒',
  slaLeft: '审批时限 {t}', planTime: '计划时间', planTimeDemo: '演示时钟 {scale} 倍速', planTimeDemoPlain: '演示时钟',
  // tasks
  tasksTitle: '我的待办', tasksLead: '{unit}的任务，最紧急的在前。', unitTasksTitle: '{unit} · 任务清单',
  fStatus: '状态', fSection: '工作要点', fOverdue: '只看逾期', fDueBefore: '截止日期不晚于', fSubtree: '含下级单位',
  stOpen: '未办结', stFinished: '已结束', stAll: '全部',
  colTask: '任务', colUnit: '责任单位', colDue: '截止时间', colCountdown: '剩余时间', colStatus: '状态', colLight: '灯号', colProgress: '进度',
  noTasks: '没有符合条件的任务。', noOpenTasks: '太好了，您没有未办结的任务。',
  unreadReminders: '未读提醒', noReminders: '没有未读提醒。', markRead: '标为已读', allNotifications: '全部通知',
  rejectedTag: '已退回', extensionTag: '延期待批', stepOf: '第 {s}/{n} 步', waitingOn: '待{unit}审批',
  // task detail
  taskRequirement: '任务要求', quoteLabel: '文件原文', section: '工作要点', kind: '任务类型', unit: '责任单位', due: '截止时间',
  dueNote: '期限说明', progress: '进度', evidenceReq: '佐证材料', evidenceRequired: '必须提交：{note}', evidenceOptional: '无须提交',
  chainTitle: '审批链', chainStep: '第 {n} 步', sla: '审批时限 {sla}', offsetWorking: '{n} 个工作日', offsetDays: '{n} 天', decidedBy: '{who} 于 {at}', reasonLabel: '理由',
  decisionsTitle: '审批记录', timelineTitle: '办理时间线', evidenceTitle: '佐证材料', noEvidence: '尚未上传佐证材料。',
  download: '下载', downloading: '正在下载…', noTimeline: '暂无记录。',
  returnedTitle: '已被退回修改', returnedBy: '退回理由：{reason}',
  extensionPending: '延期申请待审批', extensionDetail: '申请延期至 {date}，理由：{reason}（{who}，待{unit}审批）',
  actionsTitle: '办理', noActions: '当前没有需要您办理的操作。',
  reportTitle: '报告进展', reportBtn: '报告进展', value: '完成数量', base: '应覆盖总数', note: '说明', files: '佐证材料文件',
  filesHint: '可选多个文件：PDF、OFD、JPG、PNG、Word、Excel，每个不超过 20 MB。',
  submitTitle: '提交审批', submitBtn: '提交审批', submitHint: '提交后任务进入审批，由{unit}开始逐级审批。',
  extensionTitle: '申请延期', extensionBtn: '申请延期', newDue: '新的截止日期', extensionHint: '由{unit}审批。',
  decideTitle: '审批（第 {n} 步）', approve: '通过', reject: '退回', reasonHint: '退回时必须填写理由。',
  decideExtTitle: '延期申请审批', grant: '同意延期', refuse: '不同意',
  cancelTitle: '撤销任务', cancelBtn: '撤销任务', cancelHint: '撤销后任务不再计入考核，须填写理由。',
  progressSaved: '进展已报告。', submitted: '已提交审批。', approved: '已审批通过。', rejected: '已退回，并附理由。',
  extensionRequested: '延期申请已提交。', extensionDecided: '延期申请已处理。', cancelled: '任务已撤销。',
  quoteSource: '——《工作要点》',
  // approvals
  approvalsTitle: '待我审批', approvalsLead: '等待{unit}审批的事项，审批时限最近的在前。',
  tabSteps: '审批步骤', tabExtensions: '延期申请', colStep: '步骤', colSla: '审批时限', colSubmittedUnit: '报送单位',
  colNewDue: '申请延期至', colExtReason: '延期理由', colRequestedBy: '申请人', extLater: '延后 {n} 天',
  selectAll: '全选本页', selectRow: '选择 {title}', selected: '已选 {n} 项', bulkApprove: '批量通过', bulkReason: '审批意见',
  bulkDone: '已通过 {ok} 项，{failed} 项未通过。', noApprovals: '没有等待您审批的事项。', noExtensions: '没有等待您审批的延期申请。',
  rejectDialog: '退回：{title}', rejectReason: '退回理由', approveReason: '审批意见',
  // board
  boardTitle: '督办看板', boardLead: '{unit}及下级单位的完成与逾期情况。', planYear: '计划年度',
  kpiActive: '有效任务', kpiCompleted: '已办结', kpiSubmitted: '审批中', kpiOpen: '未办结', kpiOverdue: '逾期', kpiRate: '完成率',
  childTable: '下级单位完成情况', colChild: '单位', colTotal: '任务数', colActive: '有效', colCompleted: '已办结', colSubmitted: '审批中',
  colOpen: '未办结', colOverdue: '逾期', colRate: '完成率', colRank: '排名',
  chartTitle: '完成率与逾期数', chartDesc: '每个下级单位一行：蓝色条为完成率，红色数字为逾期任务数。', rankingTitle: '排名',
  overdueTitle: '逾期任务', fLevel: '层级', fMinLate: '逾期至少（天）', fMaxLate: '逾期至多（天）',
  noOverdue: '暂无逾期任务。', noChildren: '该单位没有下级单位。', exportRollup: '导出完成情况（Excel）', exportOverdue: '导出逾期清单（Excel）',
  exporting: '正在导出…', exported: '已下载 {name}', lateDays: '逾期 {n} 天', viewUnitTasks: '查看该单位任务清单', rules: '灯号规则',
  breadcrumb: '单位层级', unranked: '—',
  // notifications
  notificationsTitle: '通知', onlyUnread: '只看未读', markAllRead: '全部标为已读', noNotifications: '没有通知。', urgent: '紧急',
  newNotification: '新通知：{title}', unreadCount: '{n} 条未读', openTask: '查看任务',
  // 起草计划, 考核 and the board's trend
  navScores: '考核',
  draftTitle: '起草计划', draftLead: '粘贴或上传下一年度的工作要点通知，系统逐句识别任务并起草计划；审核（采纳、修改或删除）后检查并导入。',
  draftNotice: '通知', draftPaste: '粘贴通知正文', draftPasteHint: '从 Word 或公文系统复制全文粘贴到这里；也可以改为上传文件。',
  draftPastePlaceholder: '例如：一、加强组织建设 ……', draftFile: '或上传通知文件', draftFileHint: '.docx、.txt 或 .md，不超过 8 MB。选了文件就以文件为准。',
  draftYear: '计划年度', draftRun: '起草', draftDone: '已起草：共 {sentences} 句，{proposals} 个任务，{unreadable} 句无法识别。',
  draftOf: '《{title}》的计划草稿', draftCounts: '共 {sentences} 句：{obligations} 句含任务，{none} 句非任务，{unreadable} 句无法识别；起草 {proposals} 个任务。',
  draftIssuer: '发文单位：{issuer}；主送：{addressee}。', draftBase: '审批链、升级梯度和默认提醒沿用计划 {base}。', draftContext: '识别依据',
  draftPlanID: '计划编号', draftPlanIDHint: '小写字母、数字和连字符，如 hunan-2022；不能与已导入的计划相同。', draftPlanTitle: '计划标题',
  draftUnread: '无法识别的句子（{n}）', draftNoUnread: '没有无法识别的句子。', draftSentenceNo: '第 {n} 句（第 {p} 段）',
  draftNoticeView: '通知原文', draftVerdictObligation: '含任务', draftVerdictNone: '非任务', draftVerdictUnreadable: '无法识别',
  draftProposals: '起草的任务（{n}）', draftNoProposals: '没有起草出任务。',
  draftAccept: '采纳', draftEdit: '修改', draftDrop: '删除', draftRestore: '恢复', draftAccepted: '采纳', draftEdited: '已修改', draftDropped: '已删除',
  draftAssumption: '假设：{a}', draftWhy: '依据与说明', draftTarget: '目标 {n}', draftRatio: '{of}的 {num}/{den}', draftTargetLabel: '目标',
  draftEvery: '每{p}', period_month: '月', period_quarter: '季度', period_half: '半年', draftPeriod: '周期',
  draftTitleLabel: '任务标题', draftLevels: '责任层级', draftUnits: '指定单位（区划代码）', draftUnitsHint: '多个代码用顿号或空格分隔，如 430600。',
  draftRatioLabel: '覆盖比例', draftRatioNum: '分子', draftRatioDen: '分母', draftRatioOf: '覆盖的下级层级',
  draftEvidenceRequired: '必须提交佐证材料', draftEvidenceNote: '佐证材料说明', draftApply: '完成修改', draftDueByReviewer: '审核时确定',
  draftEditedOne: '已修改任务 {id}', draftTally: '采纳 {accept} 个，修改 {edit} 个，删除 {drop} 个。',
  draftCheck: '检查', draftDownload: '下载计划文件', draftImport: '导入计划', draftPreview: '计划文件预览',
  draftValid: '计划有效：{id}（{year} 年），{templates} 个任务模板，将生成 {instances} 个任务（采纳 {accepted}，修改 {edited}，删除 {dropped}）。',
  draftImported: '已导入计划 {id}（{n} 个任务模板）。', draftToPlans: '到计划管理中下达', draftLine: '第 {n} 行', draftTask: '任务 {id}',
  draftID: '任务编号', draftDecision: '审核意见',
  scoresTitle: '考核', scoresLead: '{unit}及下级单位的年度考核得分，统计截至 {date}。', scoresNoPlan: '尚无已下达的计划，无法考核。',
  scoresControls: '考核条件', scoreAsOf: '统计截至', scoreAsOfHint: '按这一天结束时的记录计分。',
  scoreRankingTitle: '{unit}所属单位考核排名', scoreTotal: '得分', scoreOnTime: '按期', scoreLate: '逾期办结', scoreNotDone: '逾期未办结',
  scoreNotYetDue: '未到期', scoreAdjust: '加减分', scoreRankingXLSX: '下载排名（Excel）', scoreRankingPDF: '下载考核通报（PDF）', scoreUnitPDF: '下载本单位得分通报（PDF）',
  scoreUnitTitle: '{unit}得分', scorePointsUnit: ' 分', scorePlace: '在{parent}所属 {of} 个单位中{text}。',
  scoreCounts: '计分任务 {tasks} 项：按期 {on_time}，逾期办结 {late}，逾期未办结 {not_done}，尚未到期 {not_yet_due}，撤销 {cancelled}；退回 {returned} 次，催办 {urged} 次，延期 {extensions} 次。',
  scoreEarned: '已计分任务得 {earned} 分，应得 {attainable} 分（折算前）。', scoreLinesTitle: '得分明细', scorePoints: '分值', scoreRule: '规则',
  scoreText: '说明', scoreBasis: '依据（时间线事件）', scoreAward: '加减分 #{id}', scoreNoLines: '暂无计分记录。',
  awardsTitle: '加减分', awardsNone: '尚无加减分记录。', awardItem: '加减分项', awardBy: '评定人', awardRevoke: '撤销',
  awardRevoked: '已由 {who} 撤销：{reason}', awardGive: '评定加减分', awardItemOption: '{title}（每次 {points} 分，全年上限 {max}）',
  awardPointsHint: '正数加分，负数扣分，最多两位小数。', awardSubmit: '提交', awardDone: '已记录加减分。',
  awardRevokeTitle: '撤销{unit}的 {points} 分', awardRevokeReason: '撤销理由', awardRevokedDone: '已撤销。',
  trendTitle: '全年趋势', trendLead: '按每日统计快照：实线为本年度，虚线为上一年度同期；蓝色为完成率，红色为逾期任务占比。',
  trendNone: '暂无每日统计快照（系统每天自动记录一次）。', trendCompletion: '{year} 年完成率', trendOverdue: '{year} 年逾期占比',
  trendOverdueN: '{year} 年逾期数', trendTable: '各月末数据', trendMonth: '月份', trendMonthN: '{m} 月',
  trendDesc: '截至 {day}：完成率 {rate}，逾期 {overdue} 项；上一年度同期：完成率 {prevRate}，逾期 {prevOverdue} 项。',
  trendDescPrevOnly: '本年度尚无快照，只有 {year} 年的数据。',
  // audit
  auditTitle: '审计记录', auditLead: '{unit}及下级单位的操作记录，最新的在前。每条记录与前一条以哈希相连，不可篡改。',
  fAction: '操作', fInstance: '任务编号', fActor: '操作人', fActorHint: '用户名（也可填用户编号）', fFrom: '起始日期', fTo: '截止日期', fUnit: '单位代码',
  colTime: '时间', colActor: '操作人', colAction: '操作', colObject: '对象', colDetail: '内容', colHash: '哈希',
  noAudit: '没有符合条件的审计记录。',
  dPlan: '计划', dYear: '年度', dTemplates: '模板', dLaunch: '下达编号', dStep: '步骤', dReason: '理由', dNote: '说明', dNewDue: '新截止时间',
  dEvidence: '佐证材料', dFiles: '{n} 个文件', dProgress: '进度', dFrom: '原状态', dTo: '新状态', dPlanAt: '计划时间',
  // plans
  plansTitle: '计划管理', plansLead: '上传计划文件检查格式，导入后按年度下达任务。', storedPlans: '已导入的计划',
  colPlan: '计划', colYear: '年度', colTemplates: '模板数', colImported: '导入时间', colSource: '来源文件', launchedYears: '已下达',
  noPlans: '尚未导入计划。', uploadTitle: '上传计划文件', planFile: '计划文件（YAML）', validateBtn: '检查', importBtn: '检查并导入',
  validOk: '计划有效：{id}（{year} 年），{sections} 个部分，{templates} 个任务模板，将生成 {instances} 个任务。',
  imported: '已导入计划 {id}。', planErrors: '发现 {n} 处错误', colLine: '行', colColumn: '列', colField: '字段', colMessage: '问题',
  sourceView: '文件内容（标出有错误的行）', launchTitle: '下达计划', launchBtn: '下达', launchPlan: '计划', launchYear: '年度',
  launchTemplates: '只下达以下模板（不选则全部）', launchStarted: '已开始下达：{id}', launchStatus: '下达进度',
  launchRunning: '进行中', launchDone: '已完成', launchFailed: '失败', launchWaiting: '等待开始…',
  launchCounts: '共 {total} 个任务：新启动 {started}，已存在 {existing}，失败 {failed}',
  templatesCount: '{n} 个模板',
};

const en = {
  app: 'Duban', appFull: 'Work-plan supervision', org: 'Hunan Family Planning Association',
  skip: 'Skip to main content', loading: 'Loading…', langSwitch: '中文', langSwitchLabel: '切换到中文',
  navTasks: 'My tasks', navApprovals: 'Approvals', navBoard: 'Board', navNotifications: 'Notifications', navAudit: 'Audit', navPlans: 'Plans',
  mainNav: 'Main navigation', signOut: 'Sign out', account: 'Signed in as',
  bellLabel: 'Notifications, {n} unread', bellLabelNone: 'Notifications, none unread',
  signInTitle: 'Sign in', signInLead: 'Sign in with the account your unit gave you.', username: 'Username', password: 'Password', signIn: 'Sign in', signingIn: 'Signing in…',
  wrongPassword: 'Wrong username or password', accountLocked: 'Account locked', signInFailed: 'Sign-in failed', sessionExpired: 'Your session has expired; please sign in again.',
  signedOut: 'You have signed out.', showPassword: 'Show password',
  retry: 'Retry', loadMore: 'Load more', loadingMore: 'Loading…', shown: '{n} shown', allShown: 'All {n} shown',
  empty: 'Nothing here', filters: 'Filters', apply: 'Apply', reset: 'Reset', all: 'All', close: 'Close', cancel: 'Cancel', confirm: 'OK',
  back: 'Back', save: 'Save', details: 'Details', yes: 'Yes', no: 'No', optional: 'optional', required: 'required',
  networkError: 'The network failed; check the connection and retry.', serverError: 'The server failed; please retry later.', forbidden: 'You may not see this page.',
  notFoundPage: 'Page not found', notFoundTask: 'The task does not exist or is outside what you may see.', errorRef: 'Error reference: {id}',
  formHasErrors: 'Please correct the marked fields.', fieldError: '{field}: {msg}',
  daysLeft: '{d} d {h} h left', hoursLeft: '{h} h {m} min left', minutesLeft: '{m} min {s} s left',
  daysLate: '{d} d {h} h overdue', hoursLate: '{h} h {m} min overdue', minutesLate: '{m} min {s} s overdue',
  slaLeft: 'Approval limit {t}', planTime: 'Plan time', planTimeDemo: 'demo clock ×{scale}', planTimeDemoPlain: 'demo clock',
  tasksTitle: 'My tasks', tasksLead: 'Tasks of {unit}, most urgent first.', unitTasksTitle: '{unit} · tasks',
  fStatus: 'Status', fSection: 'Work point', fOverdue: 'Overdue only', fDueBefore: 'Due on or before', fSubtree: 'Include units below',
  stOpen: 'Open', stFinished: 'Finished', stAll: 'All',
  colTask: 'Task', colUnit: 'Unit', colDue: 'Deadline', colCountdown: 'Time left', colStatus: 'Status', colLight: 'Light', colProgress: 'Progress',
  noTasks: 'No task matches.', noOpenTasks: 'Well done: you have no open tasks.',
  unreadReminders: 'Unread reminders', noReminders: 'No unread reminders.', markRead: 'Mark read', allNotifications: 'All notifications',
  rejectedTag: 'Returned', extensionTag: 'Extension pending', stepOf: 'Step {s}/{n}', waitingOn: 'Waiting on {unit}',
  taskRequirement: 'What is required', quoteLabel: 'From the document', section: 'Work point', kind: 'Kind', unit: 'Unit', due: 'Deadline',
  dueNote: 'About the deadline', progress: 'Progress', evidenceReq: 'Evidence', evidenceRequired: 'Required: {note}', evidenceOptional: 'Not required',
  chainTitle: 'Approval chain', chainStep: 'Step {n}', sla: 'time limit {sla}', offsetWorking: '{n} working days', offsetDays: '{n} days', decidedBy: '{who} at {at}', reasonLabel: 'Reason',
  decisionsTitle: 'Decisions', timelineTitle: 'Timeline', evidenceTitle: 'Evidence files', noEvidence: 'No evidence uploaded yet.',
  download: 'Download', downloading: 'Downloading…', noTimeline: 'Nothing yet.',
  returnedTitle: 'Returned for changes', returnedBy: 'Reason: {reason}',
  extensionPending: 'Extension request pending', extensionDetail: 'New deadline {date} requested, because: {reason} ({who}; {unit} decides)',
  actionsTitle: 'Act', noActions: 'Nothing for you to do here now.',
  reportTitle: 'Report progress', reportBtn: 'Report progress', value: 'Done so far', base: 'Total to cover', note: 'Note', files: 'Evidence files',
  filesHint: 'Several files allowed: PDF, OFD, JPG, PNG, Word, Excel; up to 20 MB each.',
  submitTitle: 'Submit for approval', submitBtn: 'Submit', submitHint: 'Approval starts at {unit}, then goes up the chain.',
  extensionTitle: 'Request an extension', extensionBtn: 'Request extension', newDue: 'New deadline', extensionHint: '{unit} decides.',
  decideTitle: 'Decide (step {n})', approve: 'Approve', reject: 'Return', reasonHint: 'A reason is required to return.',
  decideExtTitle: 'Decide the extension', grant: 'Grant', refuse: 'Refuse',
  cancelTitle: 'Cancel the task', cancelBtn: 'Cancel task', cancelHint: 'A cancelled task no longer counts; a reason is required.',
  progressSaved: 'Progress reported.', submitted: 'Submitted for approval.', approved: 'Approved.', rejected: 'Returned with the reason.',
  extensionRequested: 'Extension requested.', extensionDecided: 'Extension decided.', cancelled: 'Task cancelled.',
  quoteSource: '— the work points',
  approvalsTitle: 'Approvals', approvalsLead: 'Waiting on {unit}, nearest approval limit first.',
  tabSteps: 'Approval steps', tabExtensions: 'Extension requests', colStep: 'Step', colSla: 'Approval limit', colSubmittedUnit: 'From',
  colNewDue: 'New deadline asked', colExtReason: 'Reason', colRequestedBy: 'Requested by', extLater: '{n} days later',
  selectAll: 'Select all on this page', selectRow: 'Select {title}', selected: '{n} selected', bulkApprove: 'Approve selected', bulkReason: 'Comment',
  bulkDone: '{ok} approved, {failed} not.', noApprovals: 'Nothing waits on you.', noExtensions: 'No extension requests wait on you.',
  rejectDialog: 'Return: {title}', rejectReason: 'Reason for returning', approveReason: 'Comment',
  boardTitle: 'Supervision board', boardLead: 'Completion and overdue tasks of {unit} and the units below.', planYear: 'Plan year',
  kpiActive: 'Active', kpiCompleted: 'Completed', kpiSubmitted: 'In approval', kpiOpen: 'Open', kpiOverdue: 'Overdue', kpiRate: 'Completion',
  childTable: 'Units below', colChild: 'Unit', colTotal: 'Tasks', colActive: 'Active', colCompleted: 'Completed', colSubmitted: 'In approval',
  colOpen: 'Open', colOverdue: 'Overdue', colRate: 'Completion', colRank: 'Rank',
  chartTitle: 'Completion and overdue', chartDesc: 'One row per unit below: the blue bar is the completion rate, the red number the overdue tasks.', rankingTitle: 'Ranking',
  overdueTitle: 'Overdue tasks', fLevel: 'Level', fMinLate: 'At least (days late)', fMaxLate: 'At most (days late)',
  noOverdue: 'Nothing is overdue.', noChildren: 'This unit has no units below.', exportRollup: 'Export completion (Excel)', exportOverdue: 'Export overdue (Excel)',
  exporting: 'Exporting…', exported: 'Downloaded {name}', lateDays: '{n} days late', viewUnitTasks: 'Tasks of this unit', rules: 'Light rules',
  breadcrumb: 'Unit path', unranked: '—',
  notificationsTitle: 'Notifications', onlyUnread: 'Unread only', markAllRead: 'Mark all read', noNotifications: 'No notifications.', urgent: 'Urgent',
  newNotification: 'New: {title}', unreadCount: '{n} unread', openTask: 'Open task',
  navScores: 'Scores',
  draftTitle: 'Draft a plan', draftLead: 'Paste or upload next year\'s notice: each sentence is read and the plan drafted; review it (accept, edit or drop), then check and import it.',
  draftNotice: 'Notice', draftPaste: 'Paste the notice', draftPasteHint: 'Copy the whole text from Word or the document system; or upload the file instead.',
  draftPastePlaceholder: 'e.g. 一、加强组织建设 …', draftFile: 'Or upload the notice', draftFileHint: '.docx, .txt or .md, up to 8 MB. A chosen file wins over pasted text.',
  draftYear: 'Plan year', draftRun: 'Draft', draftDone: 'Drafted: {sentences} sentences, {proposals} tasks, {unreadable} unreadable.',
  draftOf: 'Draft plan of “{title}”', draftCounts: '{sentences} sentences: {obligations} with tasks, {none} without, {unreadable} unreadable; {proposals} tasks drafted.',
  draftIssuer: 'Issued by {issuer}, to the {addressee} level.', draftBase: 'Approval chains, escalation and reminders from plan {base}.', draftContext: 'How the notice was read',
  draftPlanID: 'Plan id', draftPlanIDHint: 'Lower-case letters, digits and dashes, e.g. hunan-2022; not one already imported.', draftPlanTitle: 'Plan title',
  draftUnread: 'Sentences not understood ({n})', draftNoUnread: 'Every sentence was read.', draftSentenceNo: 'Sentence {n} (paragraph {p})',
  draftNoticeView: 'The notice', draftVerdictObligation: 'Has a task', draftVerdictNone: 'No task', draftVerdictUnreadable: 'Not understood',
  draftProposals: 'Drafted tasks ({n})', draftNoProposals: 'No task was drafted.',
  draftAccept: 'Accept', draftEdit: 'Edit', draftDrop: 'Drop', draftRestore: 'Restore', draftAccepted: 'Accepted', draftEdited: 'Edited', draftDropped: 'Dropped',
  draftAssumption: 'Assumed: {a}', draftWhy: 'Reasons', draftTarget: 'target {n}', draftRatio: '{num}/{den} of {of}', draftTargetLabel: 'Target',
  draftEvery: 'every {p}', period_month: 'month', period_quarter: 'quarter', period_half: 'half-year', draftPeriod: 'Period',
  draftTitleLabel: 'Task title', draftLevels: 'Responsible levels', draftUnits: 'Named units (division codes)', draftUnitsHint: 'Several codes separated by spaces, e.g. 430600.',
  draftRatioLabel: 'Share covered', draftRatioNum: 'Numerator', draftRatioDen: 'Denominator', draftRatioOf: 'Level covered',
  draftEvidenceRequired: 'Evidence required', draftEvidenceNote: 'Evidence', draftApply: 'Done', draftDueByReviewer: '审核时确定',
  draftEditedOne: 'Task {id} edited', draftTally: '{accept} accepted, {edit} edited, {drop} dropped.',
  draftCheck: 'Check', draftDownload: 'Download the plan file', draftImport: 'Import the plan', draftPreview: 'The plan file',
  draftValid: 'Valid: {id} ({year}), {templates} templates, {instances} tasks ({accepted} accepted, {edited} edited, {dropped} dropped).',
  draftImported: 'Plan {id} imported ({n} templates).', draftToPlans: 'Launch it under Plans', draftLine: 'line {n}', draftTask: 'task {id}',
  draftID: 'Task id', draftDecision: 'Decision',
  scoresTitle: 'Scores', scoresLead: 'The year\'s scores of {unit} and the units below, as of {date}.', scoresNoPlan: 'No plan has been launched: nothing to score.',
  scoresControls: 'Scoring options', scoreAsOf: 'As of', scoreAsOfHint: 'Scored on the record at the end of this day.',
  scoreRankingTitle: 'Units under {unit}, ranked', scoreTotal: 'Score', scoreOnTime: 'On time', scoreLate: 'Late', scoreNotDone: 'Not done',
  scoreNotYetDue: 'Not due', scoreAdjust: 'Adjustments', scoreRankingXLSX: 'Ranking (Excel)', scoreRankingPDF: 'Report (PDF)', scoreUnitPDF: 'This unit\'s report (PDF)',
  scoreUnitTitle: 'Score of {unit}', scorePointsUnit: ' points', scorePlace: '{text} of {of} units under {parent}.',
  scoreCounts: '{tasks} tasks scored: {on_time} on time, {late} late, {not_done} not done, {not_yet_due} not due yet, {cancelled} cancelled; returned {returned}×, urged {urged}×, extended {extensions}×.',
  scoreEarned: 'Tasks scored so far earned {earned} of {attainable} (before scaling).', scoreLinesTitle: 'How the score is made', scorePoints: 'Points', scoreRule: 'Rule',
  scoreText: 'Explanation', scoreBasis: 'Timeline events', scoreAward: 'award #{id}', scoreNoLines: 'Nothing scored yet.',
  awardsTitle: 'Bonuses and deductions', awardsNone: 'None awarded.', awardItem: 'Item', awardBy: 'Awarded by', awardRevoke: 'Revoke',
  awardRevoked: 'Revoked by {who}: {reason}', awardGive: 'Award points', awardItemOption: '{title} ({points} each, {max} a year at most)',
  awardPointsHint: 'Positive adds, negative deducts; two decimals at most.', awardSubmit: 'Award', awardDone: 'Points awarded.',
  awardRevokeTitle: 'Revoke {points} of {unit}', awardRevokeReason: 'Reason for revoking', awardRevokedDone: 'Revoked.',
  trendTitle: 'The year so far', trendLead: 'From the daily snapshots: solid this year, dashed the year before; blue completion, red the share overdue.',
  trendNone: 'No daily snapshot yet (one is taken every day).', trendCompletion: 'Completion {year}', trendOverdue: 'Overdue share {year}',
  trendOverdueN: 'Overdue {year}', trendTable: 'Month-end figures', trendMonth: 'Month', trendMonthN: 'month {m}',
  trendDesc: 'On {day}: completion {rate}, {overdue} overdue; the year before on the same day: completion {prevRate}, {prevOverdue} overdue.',
  trendDescPrevOnly: 'No snapshot this year yet; only {year}\'s figures.',
  auditTitle: 'Audit trail', auditLead: 'What was done under {unit}, newest first. Each row is chained to the previous one by hash.',
  fAction: 'Action', fInstance: 'Task id', fActor: 'User', fActorHint: 'Username (or user id)', fFrom: 'From', fTo: 'To', fUnit: 'Unit code',
  colTime: 'Time', colActor: 'By', colAction: 'Action', colObject: 'Object', colDetail: 'Detail', colHash: 'Hash',
  noAudit: 'No audit rows match.',
  dPlan: 'plan', dYear: 'year', dTemplates: 'templates', dLaunch: 'launch', dStep: 'step', dReason: 'reason', dNote: 'note', dNewDue: 'new deadline',
  dEvidence: 'evidence', dFiles: '{n} files', dProgress: 'progress', dFrom: 'from', dTo: 'to', dPlanAt: 'plan time',
  plansTitle: 'Plans', plansLead: 'Check a plan file, import it, and launch its tasks for a year.', storedPlans: 'Stored plans',
  colPlan: 'Plan', colYear: 'Year', colTemplates: 'Templates', colImported: 'Imported', colSource: 'Source', launchedYears: 'Launched',
  noPlans: 'No plan imported yet.', uploadTitle: 'Upload a plan file', planFile: 'Plan file (YAML)', validateBtn: 'Check', importBtn: 'Check and import',
  validOk: 'Valid: {id} ({year}), {sections} sections, {templates} templates, {instances} tasks.',
  imported: 'Imported plan {id}.', planErrors: '{n} errors found', colLine: 'Line', colColumn: 'Col', colField: 'Field', colMessage: 'Problem',
  sourceView: 'The file, with the lines in error marked', launchTitle: 'Launch a plan', launchBtn: 'Launch', launchPlan: 'Plan', launchYear: 'Year',
  launchTemplates: 'Only these templates (none = all)', launchStarted: 'Launch started: {id}', launchStatus: 'Launch progress',
  launchRunning: 'running', launchDone: 'done', launchFailed: 'failed', launchWaiting: 'waiting to start…',
  launchCounts: '{total} tasks: {started} started, {existing} existing, {failed} failed',
  templatesCount: '{n} templates',
};

// Code labels in English; Chinese ones come from the API (…_label).
const enCodes = {
  status: { assigned: 'Assigned', in_progress: 'In progress', submitted: 'In approval', completed: 'Completed', cancelled: 'Cancelled' },
  light: { red: 'Overdue', yellow: 'Due soon', green: 'On track', grey: 'Finished' },
  boardLight: { red: 'Many overdue', yellow: 'Some overdue', green: 'On track', grey: 'No tasks' },
  kind: { deadline: 'Deadline', count: 'Count target', ratio: 'Coverage ratio', event: 'Event', recurring: 'Recurring' },
  role: { official: 'Official', approver: 'Approver', supervisor: 'Supervisor', admin: 'Admin' },
  level: { province: 'Province', city: 'City', county: 'County', township: 'Township', village: 'Village' },
  step: { pending: 'Not started', waiting: 'Waiting', approved: 'Approved', rejected: 'Returned' },
  event: {
    assigned: 'Assigned', progress: 'Progress', submitted: 'Submitted', approved: 'Approved', rejected: 'Returned', completed: 'Completed',
    reminder: 'Reminder', overdue: 'Overdue', escalated: 'Escalated', sla_reminder: 'Approval reminder', sla_breached: 'Approval late',
    sla_escalated: 'Approval escalated', extension_requested: 'Extension requested', extension_granted: 'Extension granted',
    extension_refused: 'Extension refused', cancelled: 'Cancelled',
  },
};

// Chinese fallbacks for codes the API sent without a label.
const zhCodes = {
  status: { assigned: '已下达', in_progress: '办理中', submitted: '审批中', completed: '已办结', cancelled: '已撤销' },
  light: { red: '已逾期', yellow: '临近截止', green: '正常', grey: '已结束' },
  boardLight: { red: '逾期较多', yellow: '少量逾期', green: '按进度', grey: '无任务' },
  kind: { deadline: '限期完成', count: '数量目标', ratio: '覆盖比例', event: '定日活动', recurring: '定期任务' },
  role: { official: '承办人', approver: '审核人', supervisor: '督查人', admin: '管理员' },
  level: { province: '省级', city: '市级', county: '县级', township: '乡镇级', village: '村级' },
  step: { pending: '未开始', waiting: '待审批', approved: '已通过', rejected: '已退回' },
  event: {},
};

const dicts = { zh, en };
const KEY = 'duban.lang';
let current = 'zh';
try {
  const saved = localStorage.getItem(KEY);
  if (saved === 'en' || saved === 'zh') current = saved;
} catch { /* storage may be off */ }

export function lang() { return current; }

export function setLang(l) {
  current = l === 'en' ? 'en' : 'zh';
  try { localStorage.setItem(KEY, current); } catch { /* ignore */ }
  document.documentElement.lang = current === 'en' ? 'en' : 'zh-CN';
}
document.documentElement.lang = current === 'en' ? 'en' : 'zh-CN';

// t returns a text with {name} placeholders filled.
export function t(key, vars) {
  let s = dicts[current][key] ?? zh[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] ?? m));
  return s;
}

// label shows a code: the API's Chinese label in Chinese, the English one
// otherwise.
export function label(kind, code, apiLabel) {
  if (current === 'en') return enCodes[kind]?.[code] ?? apiLabel ?? code;
  return apiLabel || zhCodes[kind]?.[code] || code;
}

// Locale for numbers and dates.
export function locale() { return current === 'en' ? 'en-GB' : 'zh-CN'; }
