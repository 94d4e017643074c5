package draft

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// The lexicon below is general Chinese administrative language (the words a
// 工作要点, 实施方案 or 通知 of any association or level uses), not the words
// of one notice. docs/draft.md explains each group.

// verbClass is what the head verb of a clause says about it.
type verbClass int

const (
	// verbStrong names a checkable act by itself (出台, 召开, 表彰 …).
	verbStrong verbClass = iota + 1
	// verbWeak names an act whose object decides whether it is checkable
	// (开展 活动 is; 开展 工作 is not).
	verbWeak
	// verbVague is a general exhortation (加强, 完善, 深化 …).
	verbVague
	// verbGoal states an aim or effect (提高, 促进, 营造 …).
	verbGoal
	// verbSteer hands the work to someone else (推动 X 做, 指导 X 做):
	// the act that counts is the next verb.
	verbSteer
	// verbOptional makes the clause optional (鼓励, 支持 …).
	verbOptional
	// verbExternal seeks what only others can give (争取 …).
	verbExternal
)

var verbLexicon = map[verbClass][]string{
	verbStrong: {
		"出台", "制定", "制订", "印发", "修订", "建立", "建成", "创建", "成立", "组建", "设立",
		"召开", "举办", "举行", "编辑", "编印", "编发", "出版", "表彰", "评选", "换届", "培训",
		"报送", "上报", "报备", "备案", "验收", "发放", "赠送", "签订", "配备", "启动", "挂牌",
		"命名", "发布", "提交", "申报", "列入", "评估", "督查", "检查", "考核",
	},
	verbWeak: {
		"组织", "开展", "实施", "落实", "推进", "建设", "抓好", "做好", "办好", "完成", "巩固",
		"倡导", "推广", "打造", "实现", "覆盖", "达到", "走访", "慰问", "调研", "纳入", "培育",
		"推荐", "征集", "制作", "解决", "贯彻", "学习", "宣传", "执行", "联合", "公开", "公示",
	},
	verbVague: {
		"加强", "强化", "深化", "完善", "健全", "优化", "规范", "拓展", "扩大", "加大", "改进",
		"创新", "探索", "总结", "融入", "对标", "聚焦", "统筹", "把握", "找准", "坚定", "保持",
		"发挥", "注重", "投身", "当好", "做到", "关注", "重视", "协助", "配合", "参与", "领会",
		"筑牢", "推行", "丰富", "夯实", "营建",
	},
	verbGoal: {
		"提高", "提升", "增强", "增进", "营造", "助力", "促进", "形成", "凝聚", "彰显", "确保",
		"养成", "满足", "减少", "降低", "改善",
	},
	verbSteer: {
		"推动", "指导", "督促", "引导", "帮助", "要求", "动员", "组织动员", "教育引导", "带动",
		"指导督促", "督促指导",
	},
	verbOptional: {"鼓励", "支持", "鼓励支持", "提倡", "允许"},
	verbExternal: {"争取"},
}

// verbEntry is one verb of the lexicon.
type verbEntry struct {
	word  string
	class verbClass
}

// verbsLongestFirst lists the lexicon so that at one position the longest
// word wins (组织动员 before 组织).
var verbsLongestFirst = func() []verbEntry {
	var out []verbEntry
	for c, ws := range verbLexicon {
		for _, w := range ws {
			out = append(out, verbEntry{w, c})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i].word) != len(out[j].word) {
			return len(out[i].word) > len(out[j].word)
		}
		return out[i].word < out[j].word
	})
	return out
}()

// verbsByFirstRune indexes verbsLongestFirst by first character.
var verbsByFirstRune = func() map[rune][]verbEntry {
	out := map[rune][]verbEntry{}
	for _, v := range verbsLongestFirst {
		r, _ := utf8.DecodeRuneInString(v.word)
		out[r] = append(out[r], v)
	}
	return out
}()

// deliverables are object heads that make a weak verb checkable: something
// written, held, built or counted.
var deliverables = []string{
	"方案", "办法", "细则", "规划", "制度", "机制", "会议", "大会", "推进会", "座谈会", "现场会",
	"研讨会", "培训班", "培训", "课堂", "讲座", "活动", "行动", "计划", "工程", "项目", "项目点",
	"基地", "阵地", "之家", "中心", "驿站", "家园", "小屋", "示范点", "试点", "通报", "简报", "会刊",
	"刊物", "报告", "总结", "台账", "名册", "队伍", "公约", "组织", "网站", "平台", "评估", "调研",
	"督查", "考核", "表彰", "评选", "竞赛", "比赛", "教育", "赠险", "保险", "换届",
}

// genericObjects are object heads that leave the work unspecified.
var genericObjects = []string{
	"工作", "问题", "水平", "质量", "能力", "作用", "意识", "氛围", "环境", "覆盖面", "力度",
	"效应", "影响力", "发展", "建设", "常态化", "制度化", "规范化", "均等化", "化",
}

// spiritObjects make the clause "carry out the spirit of a higher document".
var spiritObjects = []string{
	"精神", "要求", "部署", "决策部署", "讲话", "论述", "理念", "思想", "意见", "决定", "规定",
	"指示", "总要求", "方针", "路线",
}

// externalBodies are actors outside the association: an obligation that
// only they can discharge is not the association's task.
var externalBodies = []string{"党委", "政府", "党组", "人大", "政协", "部门", "卫健委"}

// orgWords follow a level word to name that level's body (县计生协, 乡镇红十字会).
var orgWords = []string{
	"计划生育协会", "计生协会", "计生协", "红十字会", "基金会", "协会", "分会", "学会", "残联", "妇联",
	"工会", "团委", "科协", "侨联", "文联", "老龄委", "机关",
}

// eventNouns are events a superior body holds once for everyone below it.
var eventNouns = []string{
	"会议", "大会", "推进会", "座谈会", "现场会", "研讨会", "培训班", "培训", "观摩", "竞赛",
	"比赛", "论坛", "评比", "评选", "表彰",
}

// convenedEvents are what 组织 or 举办 convene once (a class, a meeting), as
// against training or activities in general.
var convenedEvents = []string{
	"会议", "大会", "推进会", "座谈会", "现场会", "研讨会", "培训班", "观摩", "竞赛", "比赛", "论坛", "评比",
}

// issuerVerbs, with no one named to do them, are done by the issuer itself.
var issuerVerbs = []string{"召开", "举行", "表彰", "评选", "编辑", "编印", "编发", "出版", "印发", "命名", "联合"}

// optionalMarks make a clause optional wherever they stand.
var optionalMarks = []string{"有条件的", "有条件地", "有条件", "可以", "可根据", "视情"}

// leadingFillers are stripped from a clause's start to make a title.
var leadingFillers = []string{
	"同时", "并且", "并", "还要", "要", "继续", "进一步", "认真", "积极", "深入", "全面", "切实",
	"扎实", "广泛", "大力", "普遍", "努力", "着力", "不断", "务必", "必须", "持续", "稳步", "有序",
	"主动", "重点", "逐步", "及时", "按时", "全力", "精心", "抓紧", "力争", "坚持", "创造性地",
}

// vagueDates name no date; the year's end is assumed and said so.
var vagueDates = []string{"适时", "择机", "近期", "尽快", "及时", "另行通知", "届时"}

// summaryMarks open the paragraph of overall thinking, which sets no task.
var summaryMarks = []string{"总体思路", "总体要求", "指导思想", "基本原则", "主要目标", "总体目标"}

// contactMarks open the contact details at a section's end.
var contactMarks = []string{"联系人", "联系电话", "联系方式", "电话", "手机", "邮箱", "电子邮箱", "传真", "地址", "邮编"}

// forwardingRE-like openings: the covering note that forwards the document.
var forwardingMarks = []string{"现将", "现把", "特此通知", "特此通报"}

func hasAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// suffixIn returns the longest word of words that s ends with.
func suffixIn(s string, words []string) string {
	best := ""
	for _, w := range words {
		if strings.HasSuffix(s, w) && len(w) > len(best) {
			best = w
		}
	}
	return best
}

// firstIn returns the word of words that occurs earliest in s (longest on a tie).
func firstIn(s string, words []string) (string, int) {
	best, at := "", -1
	for _, w := range words {
		i := strings.Index(s, w)
		if i < 0 {
			continue
		}
		if at < 0 || i < at || (i == at && len(w) > len(best)) {
			best, at = w, i
		}
	}
	return best, at
}
